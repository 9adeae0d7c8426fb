import type { LoadResult, RequestSpec } from '../lib/load';
import type { BenchUser } from '../lib/tokens';
import { mb, ms, num } from '../lib/util';

/**
 * Seconds of load, not measured, before comparing two servers: a fresh service takes 15–20 s of load to reach
 * its steady speed (the JIT); four back-to-back 7 s S1 runs of one build gave 337, 481, 575, 595 turns/s.
 */
export const PRIME_S = 20;

export const CHAT_MESSAGE = 'Hello! Could you summarise what you can help me with today?';

export function chatRequest(user: BenchUser, body: { message: string; conversation_id?: string }): RequestSpec {
  return {
    method: 'POST',
    path: `/api/${encodeURIComponent(user.userId)}/chat`,
    headers: { authorization: user.authorization, 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify(body),
  };
}

/** The same turn with `Accept: text/event-stream`. */
export function streamRequest(user: BenchUser, body: { message: string; conversation_id?: string }): RequestSpec {
  const request = chatRequest(user, body);
  return { ...request, headers: { ...request.headers, accept: 'text/event-stream' } };
}

export function getRequest(user: BenchUser, path: string): RequestSpec {
  return {
    method: 'GET',
    path: `/api/${encodeURIComponent(user.userId)}${path}`,
    headers: { authorization: user.authorization, accept: 'application/json' },
  };
}

/** Round-robin over `items`. */
export function cycle<T>(items: T[]): () => T {
  let next = 0;
  return () => items[next++ % items.length];
}

/** req/s · p50 · p99 · peak RSS, formatted. */
export function loadCells(result: LoadResult): string[] {
  return [num(result.rps, result.rps < 100 ? 1 : 0), ms(result.p50), ms(result.p99), mb(result.peakRss)];
}

export const LOAD_HEADERS = ['req/s', 'p50 ms', 'p99 ms', 'peak RSS MB'];

export function safeRatio(a: number | undefined, b: number | undefined): number {
  return a !== undefined && b !== undefined && b > 0 ? a / b : Number.NaN;
}
