import { setTimeout as sleep } from 'node:timers/promises';
import type { DataSource } from 'typeorm';
import { startChatHarness, type ChatHarness } from './chat-harness';
import { openSse, type LiveStream } from './live-sse';
import { parseSse, type ParsedEvent } from './sse';

/** Two replicas need a database both reach; the embedded one belongs to a single process. */
export const ON_POSTGRES = Boolean(process.env.DATABASE_URL);
export const REPLICAS_LABEL = ON_POSTGRES ? 'two replicas on PostgreSQL' : 'embedded, one replica';

export const EVENT_STREAM = { accept: 'text/event-stream' };
/** Every stream of a turn opens with it (SPEC §5.2), so EventSource clients wait 3 s before reconnecting. */
export const RETRY_LINE = /^retry: 3000\r?\n/;

/** A harness listening on a port, for live streams over real connections (inject only answers at the end). */
export interface Replica {
  h: ChatHarness;
  url: string;
}

export async function startReplica(options: Parameters<typeof startChatHarness>[0] = {}): Promise<Replica> {
  // A turn a failed test left holding must not hold the close for the default 30 s grace.
  const h = await startChatHarness({ ...options, env: { SHUTDOWN_GRACE_MS: '500', ...options.env } });
  await h.t.app.listen({ port: 0, host: '127.0.0.1' });
  return { h, url: await h.t.app.getUrl() };
}

/**
 * `[runner, other]`: the replica a test runs its turn on and the one it watches or cancels from. On the
 * embedded database both are the same replica, so the specs still run there, without the cross-replica part.
 */
export async function startReplicas(options: Parameters<typeof startChatHarness>[0] = {}): Promise<Replica[]> {
  const runner = await startReplica(options);
  return [runner, ON_POSTGRES ? await startReplica(options) : runner];
}

export async function closeReplicas(replicas: Replica[]): Promise<void> {
  for (const replica of new Set(replicas)) await replica.h.close();
}

/** Every model call the replicas' simulators answered (one simulator when they are the same replica). */
export function modelCalls(replicas: Replica[]): number {
  return [...new Set(replicas)].reduce((sum, replica) => sum + replica.h.sim.requests.length, 0);
}

export const turnPath = (userId: string, conversationId: string, turnId: string) =>
  `/api/${userId}/chat/${conversationId}/turns/${turnId}`;

/** POST /api/{user}/chat, streamed over a real connection. */
export function postChatStream(
  replica: Replica,
  userId: string,
  body: Record<string, unknown>,
  headers: Record<string, string> = {},
): Promise<LiveStream> {
  return openSse(`${replica.url}/api/${userId}/chat`, {
    method: 'POST',
    headers: { ...replica.h.t.authHeaders(userId), ...EVENT_STREAM, 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
}

/** GET .../turns/{turn}/events over a real connection: follows the turn live until its last event. */
export function attach(
  replica: Replica,
  userId: string,
  turn: { conversationId: string; turnId: string },
  lastEventId?: string,
): Promise<LiveStream> {
  return openSse(`${replica.url}${turnPath(userId, turn.conversationId, turn.turnId)}/events`, {
    headers: {
      ...replica.h.t.authHeaders(userId),
      ...EVENT_STREAM,
      ...(lastEventId === undefined ? {} : { 'last-event-id': lastEventId }),
    },
  });
}

/** GET .../events through inject, for a turn that has ended: the whole answer, parsed. */
export async function replay(
  replica: Replica,
  userId: string,
  turn: { conversationId: string; turnId: string },
  options: { lastEventId?: string; query?: string } = {},
) {
  const response = await replica.h.t.app.inject({
    method: 'GET',
    url: `${turnPath(userId, turn.conversationId, turn.turnId)}/events${options.query ?? ''}`,
    headers: {
      ...replica.h.t.authHeaders(userId),
      ...EVENT_STREAM,
      ...(options.lastEventId === undefined ? {} : { 'last-event-id': options.lastEventId }),
    },
  });
  return { response, events: parseSse(response.body) };
}

/** POST /api/{user}/chat streamed through inject: the whole stream once the turn ended. */
export async function streamTurn(
  replica: Replica,
  userId: string,
  body: Record<string, unknown>,
  headers: Record<string, string> = {},
) {
  const response = await replica.h.send(body, userId, { ...EVENT_STREAM, ...headers });
  return { response, events: parseSse(response.body) };
}

export function cancelTurn(replica: Replica, userId: string, turn: { conversationId: string; turnId: string }) {
  return replica.h.t.app.inject({
    method: 'POST',
    url: `${turnPath(userId, turn.conversationId, turn.turnId)}/cancel`,
    headers: replica.h.t.authHeaders(userId),
  });
}

export function getConversation(replica: Replica, userId: string, conversationId: string) {
  return replica.h.t.app.inject({
    method: 'GET',
    url: `/api/${userId}/conversations/${conversationId}`,
    headers: replica.h.t.authHeaders(userId),
  });
}

/** The turn a `turn.started` event names. */
export function turnOf(started: ParsedEvent): { conversationId: string; turnId: string } {
  return { conversationId: String(started.data.conversation_id), turnId: String(started.data.turn_id) };
}

export const isEvent = (name: string) => (event: ParsedEvent) => event.event === name;

/** A promise the test settles: when a `held_text` simulator reply goes on. */
export function gate(): { promise: Promise<void>; open(): void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

/** For a `held_text` reply that only a cancel (or the client going away) ends. */
export const NEVER = new Promise<never>(() => undefined);

/** Polls `condition`; on timeout, fails with what `state` says was seen. */
export async function until(
  condition: () => boolean | Promise<boolean>,
  timeoutMs = 10_000,
  state: () => unknown = () => undefined,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) {
      throw new Error(`condition not met within ${timeoutMs} ms; saw ${JSON.stringify(state())}`);
    }
    await sleep(20);
  }
}

export interface StoredEvent {
  seq: number;
  type: string;
  data: Record<string, unknown>;
}

/** The turn's log as stored in `turn_events`. */
export async function storedEvents(dataSource: DataSource, turnId: string): Promise<StoredEvent[]> {
  return dataSource.query('SELECT seq::int AS seq, type, data FROM turn_events WHERE turn_id = $1 ORDER BY seq', [
    turnId,
  ]);
}

/** The log is written behind the live stream (in batches): waits until it holds the turn's terminal event. */
export function logEnded(dataSource: DataSource, turnId: string): Promise<void> {
  return until(async () => (await storedEvents(dataSource, turnId)).some((event) => TERMINAL_TYPES.has(event.type)));
}

const TERMINAL_TYPES = new Set(['turn.completed', 'turn.failed']);

/** Events as the log stores them, to compare a stream with `storedEvents`. */
export function asStored(events: ParsedEvent[]): StoredEvent[] {
  return events.map((event) => ({ seq: Number(event.id), type: event.event, data: event.data }));
}

export const idsOf = (events: ParsedEvent[]) => events.map((event) => Number(event.id));
/** 1, 2, … n. */
export const oneTo = (n: number) => Array.from({ length: n }, (_, index) => index + 1);

export interface StoredMessage {
  role: 'user' | 'assistant';
  content: string;
  status: string;
  stop_reason: string | null;
  error_code: string | null;
}

export function messagesOf(dataSource: DataSource, conversationId: string): Promise<StoredMessage[]> {
  return dataSource.query(
    'SELECT role, content, status, stop_reason, error_code FROM messages WHERE conversation_id = $1 ORDER BY seq',
    [conversationId],
  );
}

/** What must hold whatever the interleaving: no message left pending, completed ones alternate user/assistant. */
export function expectAlternating(messages: StoredMessage[]): void {
  expect(messages.filter((message) => message.status === 'pending')).toEqual([]);
  const completed = messages.filter((message) => message.status === 'completed');
  expect(completed.map((message) => message.role)).toEqual(
    completed.map((_, index) => (index % 2 === 0 ? 'user' : 'assistant')),
  );
}
