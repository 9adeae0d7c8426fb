import { Agent } from 'node:http';
import { nowMs } from './clock';
import type { RequestSpec } from './load';
import { openEventStream, type SseEvent } from './sse-client';
import { sleep } from './util';

export interface StreamLoadOptions {
  baseUrl: string;
  /** Streams open at once: a closed loop, each starting its next request when the last one ended. */
  streams: number;
  durationS: number;
  /** Client i sends its first request i × this later, so that paced turns do not keep in step. */
  staggerMs?: number;
  /** A request tagged so that the simulator's instants can be matched to it. */
  request: () => RequestSpec & { tag: string };
}

export interface StreamedTurn {
  tag: string;
  /** clock.ts ms: request sent, first `text.delta` received, stream ended. */
  sentAt: number;
  firstDeltaAt: number;
  endedAt: number;
}

export interface StreamLoadResult {
  turns: StreamedTurn[];
  failed: number;
  /** The first few failures, for diagnosis. */
  failures: string[];
  durationS: number;
}

const FAILURE_SAMPLES = 3;

/**
 * `streams` clients, each streaming turns back to back for `durationS` (a turn under way at the end is
 * finished). A turn counts when it answered 200 with a `text.delta` and ended with `turn.completed`.
 */
export async function runStreams(options: StreamLoadOptions): Promise<StreamLoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: options.streams });
  const turns: StreamedTurn[] = [];
  const failures: string[] = [];
  let failed = 0;
  const started = nowMs();
  const end = started + options.durationS * 1000;
  const client = async (_: unknown, index: number): Promise<void> => {
    await sleep(index * (options.staggerMs ?? 0));
    while (nowMs() < end) {
      const spec = options.request();
      const sentAt = nowMs();
      let firstDelta: SseEvent | undefined;
      try {
        const result = await openEventStream({
          url: options.baseUrl + spec.path,
          method: spec.method,
          headers: spec.headers,
          body: spec.body,
          agent,
          onEvent: (event) => {
            if (event.event === 'text.delta') firstDelta ??= event;
          },
        });
        const last = result.events.at(-1);
        if (result.status !== 200 || !firstDelta || last?.event !== 'turn.completed') {
          throw new Error(`${result.status} ${(result.body ?? `${last?.event}: ${last?.data}`).slice(0, 300)}`);
        }
        turns.push({ tag: spec.tag, sentAt, firstDeltaAt: firstDelta.at, endedAt: nowMs() });
      } catch (error) {
        failed++;
        if (failures.length < FAILURE_SAMPLES) failures.push((error as Error).message);
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: options.streams }, client));
  } finally {
    agent.destroy();
  }
  return { turns, failed, failures, durationS: (nowMs() - started) / 1000 };
}
