import { randomUUID } from 'node:crypto';
import { EventSource } from 'eventsource';
import jwt from 'jsonwebtoken';
import { AnthropicSimulator } from './support/anthropic-simulator';
import {
  EVENT_STREAM,
  NEVER,
  ON_POSTGRES,
  REPLICAS_LABEL,
  RETRY_LINE,
  attach,
  closeReplicas,
  gate,
  idsOf,
  isEvent,
  modelCalls,
  oneTo,
  postChatStream,
  replay,
  startReplica,
  startReplicas,
  streamTurn,
  turnOf,
  until,
  type Replica,
} from './support/durable-turns';
import { describeEvents, openSse, type LiveStream } from './support/live-sse';
import { killServerProcesses, startServerProcess, type ServerProcess } from './support/server-process';
import type { ParsedEvent } from './support/sse';
import { prepareTestDatabase, type TestDatabase } from './support/test-database';
import { newUserId, TEST_JWT_SECRET } from './support/test-app';

const conversationsOf = async (replica: Replica, userId: string) =>
  (
    await replica.h.t.dataSource.query('SELECT count(*)::int AS count FROM conversations WHERE user_id = $1', [userId])
  )[0].count as number;

describe(`Reconnecting to a turn (${REPLICAS_LABEL})`, () => {
  let replicas: Replica[];
  let runner: Replica;
  let other: Replica;

  beforeAll(async () => {
    replicas = await startReplicas();
    [runner, other] = replicas;
  });
  afterAll(() => closeReplicas(replicas));
  beforeEach(() => replicas.forEach((replica) => replica.h.sim.reset()));

  /** A streamed turn on the runner that sends `text`, then holds until `release`; read until that text arrived. */
  const heldTurn = async (
    userId: string,
    body: Record<string, unknown>,
    release: Promise<unknown>,
    headers: Record<string, string> = {},
  ) => {
    runner.h.sim.enqueue({ kind: 'held_text', text: 'Before the break, ', release, rest: 'after the break.' });
    const live = await postChatStream(runner, userId, body, headers);
    const started = await live.waitFor(isEvent('turn.started'));
    await live.waitFor(isEvent('text.delta'));
    return { live, turn: turnOf(started) };
  };

  /** Everything one client saw of a turn, in order: what it had before it went away, then what it got after. */
  const expectWholeTurnOnce = (seen: ParsedEvent[], fullLog: ParsedEvent[]) => {
    expect(idsOf(seen)).toEqual(oneTo(seen.length));
    expect(seen).toEqual(fullLog);
  };

  it('gives a reloaded client that attaches on the other replica with its last id exactly the rest: no gap, no duplicate', async () => {
    const userId = newUserId();
    const rest = gate();
    runner.h.sim.enqueue(
      { kind: 'tool_use', text: 'Looking it up.', calls: [{ name: 'echo', input: { text: 'x' }, id: 'toolu_r1' }] },
      { kind: 'held_text', text: 'Found it, ', release: rest.promise, rest: 'here it is.' },
    );
    const live = await postChatStream(runner, userId, { message: 'look it up' });
    const turn = turnOf(await live.waitFor(isEvent('turn.started')));
    const toolFinished = await live.waitFor(isEvent('tool.finished'));
    // The second round's first text: the model now holds until the gate opens.
    await live.waitFor(
      (event) => isEvent('text.delta')(event) && live.events.indexOf(event) > live.events.indexOf(toolFinished),
    );
    const before = [...live.events];
    live.abort();

    const resumed = await attach(other, userId, turn, before.at(-1)!.id);
    rest.open();
    await resumed.ended;

    expect(resumed.status).toBe(200);
    expect(Number(resumed.events[0].id)).toBe(Number(before.at(-1)!.id) + 1);
    expect(resumed.events.at(-1)).toMatchObject({
      event: 'turn.completed',
      data: { turn_id: turn.turnId, stop_reason: 'end_turn' },
    });
    expectWholeTurnOnce([...before, ...resumed.events], (await replay(other, userId, turn)).events);
  });

  it('gives a client that re-POSTs the same request with Last-Event-ID the rest of the same turn, on the other replica, with no second model call', async () => {
    const userId = newUserId();
    const rest = gate();
    const body = { message: 'a new conversation' };
    const { live, turn } = await heldTurn(userId, body, rest.promise);
    const before = [...live.events];
    live.abort();

    const resumed = await postChatStream(other, userId, body, { 'last-event-id': before.at(-1)!.id! });
    rest.open();
    const raw = await resumed.ended;

    expect(resumed.status).toBe(200);
    expect(raw).toMatch(RETRY_LINE);
    expect(resumed.events.at(-1)?.data).toMatchObject({
      turn_id: turn.turnId,
      response: 'Before the break, after the break.',
    });
    expectWholeTurnOnce([...before, ...resumed.events], (await replay(other, userId, turn)).events);
    expect(modelCalls(replicas)).toBe(1);
    expect(await conversationsOf(runner, userId)).toBe(1);
  });

  it('attaches a re-POST with Last-Event-ID and conversation_id to the newest turn with that message in that conversation', async () => {
    const userId = newUserId();
    const earlier = (await runner.h.send({ message: 'again' }, userId)).json();
    const rest = gate();
    const { live, turn } = await heldTurn(
      userId,
      { message: 'again', conversation_id: earlier.conversation_id },
      rest.promise,
    );
    live.abort();

    const resumed = await postChatStream(
      other,
      userId,
      { message: 'again', conversation_id: earlier.conversation_id },
      { 'last-event-id': '1' },
    );
    rest.open();
    await resumed.ended;

    expect(turn.turnId).not.toBe(earlier.turn_id);
    expect(resumed.events.at(-1)?.data.turn_id).toBe(turn.turnId);
    expect(resumed.events).toEqual((await replay(other, userId, turn, { lastEventId: '1' })).events);
    expect(modelCalls(replicas)).toBe(2);
  });

  it('attaches a re-POST with Last-Event-ID and Idempotency-Key to the running turn of that key instead of answering 409', async () => {
    const userId = newUserId();
    const key = randomUUID();
    const rest = gate();
    const body = { message: 'keyed' };
    const { live, turn } = await heldTurn(userId, body, rest.promise, { 'idempotency-key': key });
    live.abort();

    const resumed = await postChatStream(other, userId, body, { 'idempotency-key': key, 'last-event-id': '1' });
    rest.open();
    await resumed.ended;

    expect(resumed.status).toBe(200);
    expect(resumed.events.at(-1)?.data.turn_id).toBe(turn.turnId);
    expect(resumed.events).toEqual((await replay(other, userId, turn, { lastEventId: '1' })).events);
    expect(modelCalls(replicas)).toBe(1);
  });

  it('answers 204 to a re-POST whose Last-Event-ID is already the terminal id, starting nothing', async () => {
    const userId = newUserId();
    const { events } = await streamTurn(runner, userId, { message: 'done already' });

    const again = await other.h.send({ message: 'done already' }, userId, {
      ...EVENT_STREAM,
      'last-event-id': events.at(-1)!.id!,
    });

    expect(again.statusCode).toBe(204);
    expect(modelCalls(replicas)).toBe(1);
    expect(await conversationsOf(runner, userId)).toBe(1);
  });

  it('starts a normal turn for a POST with Last-Event-ID that matches no turn', async () => {
    const userId = newUserId();

    const { response, events } = await streamTurn(other, userId, { message: 'first time' }, { 'last-event-id': '5' });

    expect(response.statusCode).toBe(200);
    expect(events[0].event).toBe('turn.started');
    expect(idsOf(events)).toEqual(oneTo(events.length));
    expect(events.at(-1)?.event).toBe('turn.completed');
    expect(modelCalls(replicas)).toBe(1);
  });

  it('never attaches a POST with Last-Event-ID to another user’s turn with the same message', async () => {
    const owner = newUserId();
    const stranger = newUserId();
    const { events: owners } = await streamTurn(runner, owner, { message: 'same words' });

    const { events } = await streamTurn(other, stranger, { message: 'same words' }, { 'last-event-id': '1' });

    expect(events[0].event).toBe('turn.started');
    expect(events[0].data.turn_id).not.toBe(owners[0].data.turn_id);
    expect(await conversationsOf(runner, stranger)).toBe(1);
    expect(modelCalls(replicas)).toBe(2);
  });

  it('lets the turn of a client that went away finish and be stored: a disconnect never cancels', async () => {
    const userId = newUserId();
    const rest = gate();
    const { live, turn } = await heldTurn(userId, { message: 'I will leave' }, rest.promise);

    live.abort();
    rest.open();
    const viewer = await attach(other, userId, turn);
    await viewer.ended;

    expect(viewer.events.at(-1)).toMatchObject({
      event: 'turn.completed',
      data: { response: 'Before the break, after the break.', stop_reason: 'end_turn' },
    });
  });

  describe('idempotent replays', () => {
    const keyedTurn = async () => {
      const userId = newUserId();
      const key = randomUUID();
      runner.h.sim.enqueue(
        { kind: 'tool_use', text: 'Echoing.', calls: [{ name: 'echo', input: { text: 'k' }, id: 'toolu_k' }] },
        { kind: 'text', text: 'Echoed k.' },
      );
      const { events } = await streamTurn(runner, userId, { message: 'once only' }, { 'idempotency-key': key });
      return { userId, key, events };
    };

    it('replays a streamed repeat as retry: 3000 and turn.completed under its original id, without a model call', async () => {
      const { userId, key, events } = await keyedTurn();

      const { response, events: replayed } = await streamTurn(
        other,
        userId,
        { message: 'once only' },
        { 'idempotency-key': key },
      );

      expect(response.body).toMatch(RETRY_LINE);
      expect(replayed).toEqual([events.at(-1)]);
      expect(modelCalls(replicas)).toBe(2);
    });

    it('keeps the original terminal id however soon after the first stream ended the repeat comes (10 turns)', async () => {
      const ids: [string | undefined, string | undefined][] = [];
      for (let i = 0; i < 10; i++) {
        const { userId, key, events } = await keyedTurn();
        const { events: replayed } = await streamTurn(
          other,
          userId,
          { message: 'once only' },
          { 'idempotency-key': key },
        );
        ids.push([replayed[0]?.id, events.at(-1)?.id]);
      }

      expect(ids.filter(([replayed, original]) => replayed !== original)).toEqual([]);
    });

    it('replays the stored events after Last-Event-ID for a repeat that carries it', async () => {
      const { userId, key, events } = await keyedTurn();

      const { events: replayed } = await streamTurn(
        other,
        userId,
        { message: 'once only' },
        { 'idempotency-key': key, 'last-event-id': '2' },
      );

      expect(replayed).toEqual(events.slice(2));
      expect(modelCalls(replicas)).toBe(2);
    });
  });
});

describe('The eventsource npm client re-POSTing a chat turn', () => {
  let replica: Replica;

  beforeAll(async () => {
    replica = await startReplica();
  });
  afterAll(() => replica.h.close());
  beforeEach(() => replica.h.sim.reset());

  const EVENT_NAMES = ['turn.started', 'text.delta', 'tool.started', 'tool.finished', 'turn.completed', 'turn.failed'];

  /**
   * An EventSource whose fetch POSTs the message, as fetch-based SSE clients do; `respond` may change a
   * connection's response (by its index). It reconnects by itself, sending Last-Event-ID.
   */
  const openEventSource = (
    userId: string,
    body: Record<string, unknown>,
    respond: (response: Response, connection: number) => Response = (response) => response,
  ) => {
    const lastEventIds: (string | undefined)[] = [];
    const received: ParsedEvent[] = [];
    const statuses: number[] = [];
    const source = new EventSource(`${replica.url}/api/${userId}/chat`, {
      fetch: async (url, init) => {
        const connection = lastEventIds.push(init.headers['Last-Event-ID']) - 1;
        const response = await fetch(url, {
          ...init,
          method: 'POST',
          headers: { ...init.headers, ...replica.h.t.authHeaders(userId), 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
        statuses.push(response.status);
        return respond(response, connection);
      },
    });
    for (const name of EVENT_NAMES) {
      source.addEventListener(name, (event) =>
        received.push({ id: event.lastEventId, event: event.type, data: JSON.parse(event.data) }),
      );
    }
    const closed = until(
      () => source.readyState === EventSource.CLOSED,
      15_000,
      () => ({ statuses, lastEventIds, events: describeEvents(received) }),
    ).finally(() => source.close());
    return { lastEventIds, received, statuses, closed };
  };

  it('is answered 204 when it re-POSTs after the turn ended, and stops: one model call, one conversation, every event once', async () => {
    const userId = newUserId();
    replica.h.sim.enqueue({ kind: 'text', text: 'Answered once, whatever the client does.' });

    const client = openEventSource(userId, { message: 'hello there' });
    await client.closed;

    expect(idsOf(client.received)).toEqual(oneTo(client.received.length));
    expect(client.received.at(-1)?.event).toBe('turn.completed');
    expect(client.lastEventIds).toEqual([undefined, client.received.at(-1)!.id]);
    expect(client.statuses).toEqual([200, 204]);
    expect(replica.h.sim.requests).toHaveLength(1);
    expect(await conversationsOf(replica, userId)).toBe(1);
  }, 30_000);

  it('reconnects after its connection drops mid-turn and gets the rest of the same turn, with no gap or duplicate', async () => {
    const userId = newUserId();
    const rest = gate();
    replica.h.sim.enqueue({ kind: 'held_text', text: 'Before the drop, ', release: rest.promise, rest: 'after it.' });

    const client = openEventSource(userId, { message: 'a dropped line' }, (response, connection) => {
      if (connection === 0) return cutAfterFirst(response, 'event: text.delta');
      // The reconnect is attached: let the turn go on, so the rest arrives live.
      if (connection === 1) rest.open();
      return response;
    });
    await client.closed;

    const completed = client.received.at(-1)!;
    expect(completed).toMatchObject({
      event: 'turn.completed',
      data: { response: 'Before the drop, after it.' },
    });
    expect(idsOf(client.received)).toEqual(oneTo(client.received.length));
    expect(client.lastEventIds).toHaveLength(3);
    expect(Number(client.lastEventIds[1])).toBeLessThan(Number(completed.id));
    expect(client.lastEventIds[2]).toBe(completed.id);
    expect(client.statuses).toEqual([200, 200, 204]);
    expect(replica.h.sim.requests).toHaveLength(1);
    expect(await conversationsOf(replica, userId)).toBe(1);
  }, 30_000);
});

function textOf(events: ParsedEvent[]): string {
  return events
    .filter(isEvent('text.delta'))
    .map((event) => event.data.text)
    .join('');
}

/** The response as far as the first chunk holding `marker`; then it ends, and the connection is dropped. */
function cutAfterFirst(response: Response, marker: string): Response {
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let text = '';
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      const { done, value } = await reader.read();
      if (done) return controller.close();
      controller.enqueue(value);
      text += decoder.decode(value, { stream: true });
      if (!text.includes(marker)) return;
      controller.close();
      await reader.cancel();
    },
  });
  return new Response(body, { status: response.status, headers: response.headers });
}

describe('A replica killed mid-turn', () => {
  // Two boots (a process that compiles on load, then the app that takes over) and a lease to expire.
  jest.setTimeout(60_000);
  const LEASE_TTL_MS = '1500';
  let sim: AnthropicSimulator;
  let database: TestDatabase;
  const tokenFor = (sub: string) => jwt.sign({ sub }, TEST_JWT_SECRET, { algorithm: 'HS256', expiresIn: '10m' });

  beforeEach(async () => {
    sim = await AnthropicSimulator.start();
    database = prepareTestDatabase();
  });
  afterEach(async () => {
    killServerProcesses();
    await sim.close();
    await database.cleanup();
  });

  /** A replica as its own process, running a turn whose model holds; read until its first text. */
  const doomedTurn = async (userId: string) => {
    const server = await startServerProcess({
      NODE_ENV: 'test',
      JWT_SECRET: TEST_JWT_SECRET,
      ANTHROPIC_API_KEY: 'test-key',
      ANTHROPIC_BASE_URL: sim.url,
      CHAT_LEASE_TTL_MS: LEASE_TTL_MS,
      ...database.env,
    });
    const text = 'Going down with the ship';
    sim.enqueue({ kind: 'held_text', text, release: NEVER });
    const live = await openSse(`${server.url}/api/${userId}/chat`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tokenFor(userId)}`, ...EVENT_STREAM, 'content-type': 'application/json' },
      body: JSON.stringify({ message: 'lost in the crash' }),
    });
    const turn = turnOf(await live.waitFor(isEvent('turn.started')));
    // The whole text, which may come as more than one delta (the rest of a burst follows the first).
    const lastDelta = await live.waitFor(
      (event) => isEvent('text.delta')(event) && textOf(live.events.slice(0, live.events.indexOf(event) + 1)) === text,
    );
    // The log is written in batches: the client may see an event before it is stored, and a kill loses that batch.
    await storedBy(server, userId, turn, lastDelta.id!);
    return { server, live, turn, lastSeen: lastDelta.id! };
  };

  /** Waits until the replica's own events route replays event `id` of the turn. */
  const storedBy = async (server: ServerProcess, userId: string, turn: ReturnType<typeof turnOf>, id: string) => {
    const check = await openSse(`${server.url}/api/${userId}/chat/${turn.conversationId}/turns/${turn.turnId}/events`, {
      headers: { authorization: `Bearer ${tokenFor(userId)}`, ...EVENT_STREAM },
    });
    await check.waitFor((event) => event.id === id);
    check.abort();
  };

  const kill = async (server: ServerProcess, live: LiveStream) => {
    server.kill('SIGKILL');
    expect(await server.exited).toBe('SIGKILL');
    await live.ended;
  };

  const survivor = () =>
    startReplica({ env: { ...database.env, CHAT_LEASE_TTL_MS: LEASE_TTL_MS, CHAT_BUSY_WAIT_MS: '5000' } });

  const expectInterrupted = (events: ParsedEvent[], turn: ReturnType<typeof turnOf>) => {
    expect(events.at(-1)).toMatchObject({
      event: 'turn.failed',
      data: {
        code: 'turn_interrupted',
        conversation_id: turn.conversationId,
        user_message_id: turn.turnId,
        turn_id: turn.turnId,
      },
    });
  };

  (ON_POSTGRES ? it : it.skip)(
    'ends a viewer attached on another replica with turn.failed turn_interrupted once the dead replica’s lease expires',
    async () => {
      const userId = newUserId();
      const replica = await survivor();
      try {
        const { server, live, turn, lastSeen } = await doomedTurn(userId);
        const viewer = await attach(replica, userId, turn);
        await viewer.waitFor((event) => event.id === lastSeen);

        await kill(server, live);
        await viewer.ended;

        expect(idsOf(viewer.events)).toEqual(oneTo(viewer.events.length));
        expectInterrupted(viewer.events, turn);
        expect((await replay(replica, userId, turn)).events).toEqual(viewer.events);
        const [message] = await replica.h.t.dataSource.query('SELECT status, error_code FROM messages WHERE id = $1', [
          turn.turnId,
        ]);
        expect(message).toEqual({ status: 'failed', error_code: 'turn_interrupted' });
      } finally {
        await replica.h.close();
      }
    },
  );

  it('gives a viewer that reconnects to the replica taking over turn.failed turn_interrupted, right after the last id it saw', async () => {
    const userId = newUserId();
    const { server, live, turn, lastSeen } = await doomedTurn(userId);
    await kill(server, live);

    const replica = await survivor();
    try {
      const viewer = await attach(replica, userId, turn, lastSeen);
      await viewer.ended;

      expect(viewer.events).toHaveLength(1);
      expect(viewer.events[0].id).toBe(String(Number(lastSeen) + 1));
      expectInterrupted(viewer.events, turn);
    } finally {
      await replica.h.close();
    }
  });
});
