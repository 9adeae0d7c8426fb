import { randomUUID } from 'node:crypto';
import {
  REPLICAS_LABEL,
  RETRY_LINE,
  asStored,
  attach,
  closeReplicas,
  gate,
  getConversation,
  idsOf,
  logEnded,
  isEvent,
  oneTo,
  postChatStream,
  replay,
  startReplica,
  startReplicas,
  storedEvents,
  streamTurn,
  turnOf,
  turnPath,
  until,
  type Replica,
} from './support/durable-turns';
import { isolatedDatabase, type IsolatedDatabase } from './support/isolated-database';
import { newUserId } from './support/test-app';

describe(`A turn's event log and the events route (${REPLICAS_LABEL})`, () => {
  let replicas: Replica[];
  let runner: Replica;
  let other: Replica;

  beforeAll(async () => {
    replicas = await startReplicas();
    [runner, other] = replicas;
  });
  afterAll(() => closeReplicas(replicas));
  beforeEach(() => replicas.forEach((replica) => replica.h.sim.reset()));

  /** A finished streamed turn with a tool call, and the events its live stream sent. */
  const finishedTurn = async (userId = newUserId()) => {
    runner.h.sim.enqueue(
      { kind: 'tool_use', text: 'Let me echo that.', calls: [{ name: 'echo', input: { text: 'hi' }, id: 'toolu_e1' }] },
      { kind: 'text', text: 'The echo said hi, as expected.' },
    );
    const { response, events } = await streamTurn(runner, userId, { message: 'echo hi' });
    expect(events.at(-1)?.event).toBe('turn.completed');
    return { userId, response, events, turn: turnOf(events[0]) };
  };

  describe('the live stream of POST .../chat', () => {
    it('opens with retry: 3000 and numbers its events 1, 2, 3…, turn_id (the user message id) on turn.started and turn.completed', async () => {
      runner.h.sim.enqueue({ kind: 'text', text: 'Streaming answers arrive in several pieces.' });

      const { response, events } = await streamTurn(runner, newUserId(), { message: 'stream please' });

      expect(response.statusCode).toBe(200);
      expect(response.body).toMatch(RETRY_LINE);
      expect(idsOf(events)).toEqual(oneTo(events.length));
      const completed = events.at(-1)!;
      expect(completed.event).toBe('turn.completed');
      expect(completed.data.turn_id).toBe(completed.data.user_message_id);
      expect(events[0]).toEqual({
        id: '1',
        event: 'turn.started',
        data: {
          conversation_id: completed.data.conversation_id,
          user_message_id: completed.data.user_message_id,
          turn_id: completed.data.user_message_id,
        },
      });
    });

    it('answers a JSON request with turn_id, the id of its user message', async () => {
      const response = await runner.h.send({ message: 'plain json' });

      expect(response.statusCode).toBe(200);
      expect(response.json().turn_id).toBe(response.json().user_message_id);
    });

    it('answers a failed JSON turn with a problem naming conversation_id, user_message_id and turn_id', async () => {
      runner.h.sim.enqueue({ kind: 'error', status: 400, type: 'invalid_request_error' });

      const response = await runner.h.send({ message: 'fail as json' });

      const problem = response.json();
      expect(response.headers['content-type']).toContain('application/problem+json');
      expect(problem).toMatchObject({
        conversation_id: expect.any(String),
        user_message_id: expect.any(String),
      });
      expect(problem.turn_id).toBe(problem.user_message_id);
    });

    it('merges a burst of text deltas: fewer events than the model sent deltas, together the whole answer', async () => {
      // The simulator sends this as four deltas in one write: a burst well within 20 ms.
      runner.h.sim.enqueue({ kind: 'text', text: 'One burst of text that the model streams in four deltas.' });

      const { events } = await streamTurn(runner, newUserId(), { message: 'burst' });

      const deltas = events.filter(isEvent('text.delta'));
      expect(deltas.length).toBeGreaterThanOrEqual(1);
      expect(deltas.length).toBeLessThanOrEqual(2);
      expect(deltas.map((event) => event.data.text).join('')).toBe(events.at(-1)!.data.response);
    });

    it('ends a failed turn with turn.failed (no error event), a problem naming conversation_id, user_message_id and turn_id', async () => {
      runner.h.sim.enqueue({ kind: 'stream_error', type: 'overloaded_error', afterText: 'Half an ans' });

      const { events } = await streamTurn(runner, newUserId(), { message: 'fail midway' });

      expect(events.map((event) => event.event)).not.toContain('error');
      const failed = events.at(-1)!;
      expect(failed.event).toBe('turn.failed');
      expect(failed.data).toMatchObject({
        status: 503,
        code: 'model_overloaded',
        conversation_id: events[0].data.conversation_id,
        user_message_id: events[0].data.user_message_id,
        turn_id: events[0].data.turn_id,
      });
      expect(idsOf(events)).toEqual(oneTo(events.length));
    });
  });

  describe('turn_events', () => {
    it('stores every event of a turn, in order, under the ids the live stream sent, with its conversation and user', async () => {
      const { userId, events, turn } = await finishedTurn();
      await logEnded(runner.h.t.dataSource, turn.turnId);

      expect(await storedEvents(runner.h.t.dataSource, turn.turnId)).toEqual(asStored(events));
      const owners = await runner.h.t.dataSource.query(
        'SELECT DISTINCT conversation_id, user_id FROM turn_events WHERE turn_id = $1',
        [turn.turnId],
      );
      expect(owners).toEqual([{ conversation_id: turn.conversationId, user_id: userId }]);
    });
  });

  describe('GET .../turns/{turn_id}/events', () => {
    it('replays a finished turn on the other replica: retry: 3000, then the same events, ids and data as the live stream', async () => {
      const { userId, events, turn } = await finishedTurn();

      const { response, events: replayed } = await replay(other, userId, turn);

      expect(response.statusCode).toBe(200);
      expect(response.headers['content-type']).toContain('text/event-stream');
      expect(response.body).toMatch(RETRY_LINE);
      expect(replayed).toEqual(events);
    });

    it('replays a failed turn with its turn.failed under the same id', async () => {
      const userId = newUserId();
      runner.h.sim.enqueue({ kind: 'stream_error', type: 'overloaded_error', afterText: 'Half' });
      const { events } = await streamTurn(runner, userId, { message: 'fail, then replay' });

      const { events: replayed } = await replay(other, userId, turnOf(events[0]));

      expect(replayed).toEqual(events);
      expect(replayed.at(-1)?.event).toBe('turn.failed');
    });

    it.each([
      ['the Last-Event-ID header', { lastEventId: '2' }],
      ['?after=2', { query: '?after=2' }],
    ])('replays only the events after %s', async (_, options) => {
      const { userId, events, turn } = await finishedTurn();

      const { response, events: replayed } = await replay(other, userId, turn, options);

      expect(response.statusCode).toBe(200);
      expect(replayed).toEqual(events.slice(2));
    });

    it('replays from the start with ?after=0', async () => {
      const { userId, events, turn } = await finishedTurn();

      expect((await replay(other, userId, turn, { query: '?after=0' })).events).toEqual(events);
    });

    it.each([
      ['the Last-Event-ID header', (id: string) => ({ lastEventId: id })],
      ['?after', (id: string) => ({ query: `?after=${id}` })],
    ])('answers 204 with no body when %s is already the terminal event’s id', async (_, options) => {
      const { userId, events, turn } = await finishedTurn();

      const { response } = await replay(other, userId, turn, options(events.at(-1)!.id!));

      expect(response.statusCode).toBe(204);
      expect(response.body).toBe('');
    });

    it('answers 204, never the terminal event again, however soon after its stream ended the client asks (10 turns)', async () => {
      const answers: number[] = [];
      for (let i = 0; i < 10; i++) {
        const { userId, events, turn } = await finishedTurn();
        answers.push((await replay(other, userId, turn, { lastEventId: events.at(-1)!.id })).response.statusCode);
      }

      expect(answers).toEqual(Array(10).fill(204));
    });

    it('attaches on the other replica while the turn runs: the events so far, then the live ones, then closes after turn.completed', async () => {
      const userId = newUserId();
      const rest = gate();
      runner.h.sim.enqueue({ kind: 'held_text', text: 'First half, ', release: rest.promise, rest: 'second half.' });
      const live = await postChatStream(runner, userId, { message: 'take your time' });
      const started = await live.waitFor(isEvent('turn.started'));
      await live.waitFor(isEvent('text.delta'));

      const viewer = await attach(other, userId, turnOf(started));
      await viewer.waitFor(isEvent('text.delta'));
      rest.open();
      const [liveBody, viewerBody] = await Promise.all([live.ended, viewer.ended]);

      expect(viewer.status).toBe(200);
      expect(viewerBody).toMatch(RETRY_LINE);
      expect(liveBody).toMatch(RETRY_LINE);
      expect(viewer.events).toEqual(live.events);
      expect(viewer.events.at(-1)).toMatchObject({
        event: 'turn.completed',
        data: { response: 'First half, second half.', turn_id: started.data.turn_id },
      });
    });

    it('answers 404 turn_not_found for an unknown turn, another user’s turn, an unknown conversation and a turn under another conversation', async () => {
      const { userId, turn } = await finishedTurn();
      const stranger = newUserId();
      const otherConversation = (await runner.h.send({ message: 'elsewhere' }, userId)).json().conversation_id;

      const answers = await Promise.all([
        replay(other, userId, { ...turn, turnId: randomUUID() }),
        replay(other, stranger, turn),
        replay(other, userId, { ...turn, conversationId: randomUUID() }),
        replay(other, userId, { ...turn, conversationId: otherConversation }),
      ]);

      for (const { response } of answers) {
        expect(response.statusCode).toBe(404);
        expect(response.headers['content-type']).toContain('application/problem+json');
        expect(response.json().code).toBe('turn_not_found');
      }
    });

    it('answers 401 without a token and 403 for another user’s path', async () => {
      const { userId, turn } = await finishedTurn();
      const url = `${turnPath(userId, turn.conversationId, turn.turnId)}/events`;

      const anonymous = await other.h.t.app.inject({ method: 'GET', url, headers: { accept: 'text/event-stream' } });
      const impostor = await other.h.t.app.inject({
        method: 'GET',
        url,
        headers: { ...other.h.t.authHeaders(newUserId()), accept: 'text/event-stream' },
      });

      expect(anonymous.statusCode).toBe(401);
      expect(impostor.statusCode).toBe(403);
    });

    it.each(['-1', '1.5', 'abc'])('answers 400 for ?after=%p, which is not a non-negative integer', async (after) => {
      const { userId, turn } = await finishedTurn();

      const { response } = await replay(other, userId, turn, { query: `?after=${after}` });

      expect(response.statusCode).toBe(400);
      expect(response.headers['content-type']).toContain('application/problem+json');
    });
  });

  describe('active_turn', () => {
    it('names the running turn on the conversation and in the list, on any replica, and is null once it ended', async () => {
      const userId = newUserId();
      const rest = gate();
      runner.h.sim.enqueue({ kind: 'held_text', text: 'Working', release: rest.promise, rest: ' on it.' });
      const before = Date.now();
      const live = await postChatStream(runner, userId, { message: 'a long one' });
      const { conversationId, turnId } = turnOf(await live.waitFor(isEvent('turn.started')));

      const running = await getConversation(other, userId, conversationId);
      const listed = await other.h.t.app.inject({
        method: 'GET',
        url: `/api/${userId}/conversations`,
        headers: other.h.t.authHeaders(userId),
      });
      rest.open();
      await live.ended;
      const ended = await getConversation(other, userId, conversationId);
      const listedAfter = await other.h.t.app.inject({
        method: 'GET',
        url: `/api/${userId}/conversations`,
        headers: other.h.t.authHeaders(userId),
      });

      const activeTurn = running.json().active_turn;
      expect(activeTurn).toEqual({ turn_id: turnId, started_at: expect.stringMatching(/Z$/) });
      expect(Math.abs(Date.parse(activeTurn.started_at) - before)).toBeLessThan(5_000);
      expect(listed.json().data).toEqual([expect.objectContaining({ id: conversationId, active_turn: activeTurn })]);
      expect(ended.json().active_turn).toBeNull();
      expect(listedAfter.json().data).toEqual([expect.objectContaining({ id: conversationId, active_turn: null })]);
    });
  });
});

describe('A turn’s events after CHAT_TURN_EVENTS_TTL (500ms)', () => {
  let database: IsolatedDatabase;
  let replica: Replica;

  beforeAll(async () => {
    database = await isolatedDatabase();
    replica = await startReplica({ env: { ...database.env, CHAT_TURN_EVENTS_TTL: '500ms' } });
  });
  afterAll(async () => {
    await replica.h.close();
    await database.drop();
  });
  beforeEach(() => replica.h.sim.reset());

  const rowsOf = async (turnId: string) =>
    (
      await replica.h.t.dataSource.query('SELECT count(*)::int AS count FROM turn_events WHERE turn_id = $1', [turnId])
    )[0].count as number;
  const expired = async (turnId: string) => {
    await logEnded(replica.h.t.dataSource, turnId);
    await until(async () => (await rowsOf(turnId)) === 0);
  };

  const finishedTurn = async () => {
    const userId = newUserId();
    replica.h.sim.enqueue(
      { kind: 'tool_use', text: 'Echoing.', calls: [{ name: 'echo', input: { text: 'ttl' }, id: 'toolu_ttl' }] },
      { kind: 'text', text: 'Echoed ttl.' },
    );
    const { events } = await streamTurn(replica, userId, { message: 'echo ttl' });
    return { userId, events, turn: turnOf(events[0]) };
  };

  it('deletes a finished turn’s events once the TTL has passed', async () => {
    const { turn } = await finishedTurn();

    await expired(turn.turnId);
  });

  it('keeps the events of a turn that runs longer than the TTL, counted from its end, not its start', async () => {
    const userId = newUserId();
    const rest = gate();
    replica.h.sim.enqueue({ kind: 'held_text', text: 'Still thinking', release: rest.promise, rest: '.' });
    const live = await postChatStream(replica, userId, { message: 'outlive the ttl' });
    const long = turnOf(await live.waitFor(isEvent('turn.started')));
    await live.waitFor(isEvent('text.delta'));
    // A turn that ends after the long one began, and whose events expire: the long one has now run past the TTL.
    const { turn: short } = await finishedTurn();
    await expired(short.turnId);

    const viewer = await attach(replica, userId, long);
    await viewer.waitFor(isEvent('text.delta'));
    rest.open();
    await Promise.all([viewer.ended, live.ended]);

    expect(viewer.events).toEqual(live.events);
    expect(viewer.events.at(-1)?.event).toBe('turn.completed');
  });

  it.each([
    ['from the start', {}],
    ['after an id before the terminal one', { lastEventId: '1' }],
  ])(
    'answers one turn.completed rebuilt from the stored messages, under its original id, when asked %s',
    async (_, options) => {
      const { userId, events, turn } = await finishedTurn();
      await expired(turn.turnId);

      const { response, events: replayed } = await replay(replica, userId, turn, options);

      expect(response.statusCode).toBe(200);
      expect(response.body).toMatch(RETRY_LINE);
      expect(replayed).toEqual([events.at(-1)]);
    },
  );

  it('answers 204 when Last-Event-ID is the terminal id, so a reconnecting client stops', async () => {
    const { userId, events, turn } = await finishedTurn();
    await expired(turn.turnId);

    const { response } = await replay(replica, userId, turn, { lastEventId: events.at(-1)!.id });

    expect(response.statusCode).toBe(204);
  });

  it('answers a failed turn with one turn.failed rebuilt from its stored message, under its original id', async () => {
    const userId = newUserId();
    replica.h.sim.enqueue({ kind: 'stream_error', type: 'overloaded_error', afterText: 'Half' });
    const { events } = await streamTurn(replica, userId, { message: 'fail before the ttl' });
    const turn = turnOf(events[0]);
    const failed = events.at(-1)!;
    await expired(turn.turnId);

    const { events: replayed } = await replay(replica, userId, turn);

    expect(replayed).toHaveLength(1);
    expect(replayed[0]).toMatchObject({
      id: failed.id,
      event: 'turn.failed',
      data: {
        status: failed.data.status,
        code: 'model_overloaded',
        conversation_id: turn.conversationId,
        user_message_id: turn.turnId,
        turn_id: turn.turnId,
      },
    });
  });

  it('runs a re-POST with Last-Event-ID whose turn is older than the TTL as a new turn', async () => {
    const { userId, events, turn } = await finishedTurn();
    await expired(turn.turnId);
    replica.h.sim.enqueue({ kind: 'text', text: 'A new answer.' });

    const { events: again } = await streamTurn(
      replica,
      userId,
      { message: 'echo ttl' },
      {
        'last-event-id': events.at(-1)!.id!,
      },
    );

    expect(again[0].event).toBe('turn.started');
    expect(again[0].data.turn_id).not.toBe(turn.turnId);
    expect(again.at(-1)?.data.response).toBe('A new answer.');
  });

  it('still answers 404 turn_not_found for another user’s expired turn', async () => {
    const { turn } = await finishedTurn();
    await expired(turn.turnId);

    const { response } = await replay(replica, newUserId(), turn);

    expect(response.statusCode).toBe(404);
    expect(response.json().code).toBe('turn_not_found');
  });
});
