import { readSse, type ParsedEvent } from './sse';

/** An SSE response being read as it arrives, over a real connection. */
export interface LiveStream {
  status: number;
  headers: Headers;
  /** Every event received so far, in order. */
  events: ParsedEvent[];
  /** The first event (received already or to come) that matches; rejects if the stream ends without one. */
  waitFor(predicate: (event: ParsedEvent) => boolean): Promise<ParsedEvent>;
  /** The raw body once the server ends it; '' when the client aborted it. */
  ended: Promise<string>;
  /** Goes away as a client does: the connection is dropped. */
  abort(): void;
}

interface Waiter {
  predicate: (event: ParsedEvent) => boolean;
  resolve: (event: ParsedEvent) => void;
  reject: (error: Error) => void;
}

/** `fetch`, then reads the body as SSE in the background (a non-SSE answer as text, with no events). */
export async function openSse(url: string, init: RequestInit): Promise<LiveStream> {
  const controller = new AbortController();
  const response = await fetch(url, { ...init, signal: controller.signal });
  const events: ParsedEvent[] = [];
  const waiters = new Set<Waiter>();
  let finished = false;
  const notMet = () => new Error(`the stream ended without the awaited event; it sent ${describeEvents(events)}`);
  const onEvent = (event: ParsedEvent) => {
    events.push(event);
    for (const waiter of waiters) {
      if (!waiter.predicate(event)) continue;
      waiters.delete(waiter);
      waiter.resolve(event);
    }
  };
  const isSse = (response.headers.get('content-type') ?? '').startsWith('text/event-stream');
  const ended = (isSse ? readSse(response, onEvent) : response.text())
    .catch(() => '')
    .finally(() => {
      finished = true;
      for (const waiter of waiters) waiter.reject(notMet());
      waiters.clear();
    });
  return {
    status: response.status,
    headers: response.headers,
    events,
    ended,
    abort: () => controller.abort(),
    waitFor: (predicate) => {
      const seen = events.find(predicate);
      if (seen) return Promise.resolve(seen);
      if (finished) return Promise.reject(notMet());
      return new Promise((resolve, reject) => waiters.add({ predicate, resolve, reject }));
    },
  };
}

export function describeEvents(events: { id?: string; event: string }[]): string {
  return events.map((event) => `${event.id}:${event.event}`).join(', ') || 'no events';
}
