import { createParser, type EventSourceMessage } from 'eventsource-parser';

export interface ParsedEvent {
  id?: string;
  event: string;
  data: Record<string, unknown>;
}

/** Parses a whole SSE body with a real parser (the one browsers' EventSource polyfills use). */
export function parseSse(body: string): ParsedEvent[] {
  const events: ParsedEvent[] = [];
  const parser = createParser({
    onEvent: (message: EventSourceMessage) =>
      events.push({ id: message.id, event: message.event ?? 'message', data: JSON.parse(message.data) }),
  });
  parser.feed(body);
  return events;
}

/** Reads an SSE response as it arrives, calling `onEvent` per event; resolves when the stream ends. */
export async function readSse(response: Response, onEvent: (event: ParsedEvent) => void): Promise<string> {
  let raw = '';
  const parser = createParser({
    onEvent: (message) =>
      onEvent({ id: message.id, event: message.event ?? 'message', data: JSON.parse(message.data) }),
  });
  const decoder = new TextDecoder();
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    const text = decoder.decode(chunk, { stream: true });
    raw += text;
    parser.feed(text);
  }
  return raw;
}
