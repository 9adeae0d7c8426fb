import { type Agent, request as httpRequest } from 'node:http';
import { nowMs } from './clock';

/** One Server-Sent Event as a client sees it, with the instant (clock.ts) the bytes that completed it arrived. */
export interface SseEvent {
  id?: string;
  event: string;
  data: string;
  at: number;
}

export interface EventStreamRequest {
  url: string;
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  body?: string;
  agent: Agent;
  timeoutMs?: number;
  /** Called as each event arrives. */
  onEvent?: (event: SseEvent) => void;
}

export interface EventStreamResult {
  status: number;
  /** When the response headers arrived (clock.ts ms). */
  openedAt: number;
  events: SseEvent[];
  /** The body, when the answer is not an event stream (an error). */
  body?: string;
}

const DEFAULT_TIMEOUT_MS = 30_000;

/** A request whose answer is read as an event stream to its end; rejects on a network error or the timeout. */
export function openEventStream(options: EventStreamRequest): Promise<EventStreamResult> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(options.url, {
      method: options.method,
      headers: options.headers,
      agent: options.agent,
    });
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const timer = setTimeout(
      () => request.destroy(new Error(`${options.method} ${options.url}: no end within ${timeoutMs} ms`)),
      timeoutMs,
    );
    const fail = (error: Error): void => {
      clearTimeout(timer);
      reject(error);
    };
    request.once('error', fail);
    request.once('response', (response) => {
      const openedAt = nowMs();
      const status = response.statusCode ?? 0;
      const streaming = String(response.headers['content-type']).startsWith('text/event-stream');
      const parser = new SseParser();
      const events: SseEvent[] = [];
      let body = '';
      response.once('error', fail);
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        const at = nowMs();
        if (!streaming) return void (body += chunk);
        for (const event of parser.push(chunk, at)) {
          events.push(event);
          options.onEvent?.(event);
        }
      });
      response.once('end', () => {
        clearTimeout(timer);
        resolve({ status, openedAt, events, ...(!streaming && { body }) });
      });
    });
    request.end(options.body);
  });
}

/** The event-stream format (WHATWG HTML §9.2), incrementally: `retry:` and comment lines are skipped. */
export class SseParser {
  private partial = '';
  private id: string | undefined;
  private event = '';
  private data: string[] = [];

  push(chunk: string, at: number): SseEvent[] {
    const lines = (this.partial + chunk).split(/\r\n|\r|\n/);
    this.partial = lines.pop() ?? '';
    const events: SseEvent[] = [];
    for (const line of lines) {
      if (line === '') {
        if (this.data.length > 0) {
          events.push({ id: this.id, event: this.event || 'message', data: this.data.join('\n'), at });
        }
        this.event = '';
        this.data = [];
        continue;
      }
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + (line[colon + 1] === ' ' ? 2 : 1));
      if (field === 'id') this.id = value;
      else if (field === 'event') this.event = value;
      else if (field === 'data') this.data.push(value);
    }
    return events;
  }
}
