import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  NEVER,
  REPLICAS_LABEL,
  attach,
  cancelTurn,
  closeReplicas,
  expectAlternating,
  gate,
  getConversation,
  isEvent,
  messagesOf,
  modelCalls,
  postChatStream,
  startReplicas,
  turnOf,
  turnPath,
  type Replica,
} from './support/durable-turns';
import type { LiveStream } from './support/live-sse';
import { newUserId } from './support/test-app';

/** SPEC §5.2: the replica running a turn stops it within 1 s of the cancel. */
const CANCEL_WITHIN_MS = 1_000;
const BUSY_WAIT_MS = 2_500;

describe(`Cancelling a turn and on_busy (${REPLICAS_LABEL})`, () => {
  let replicas: Replica[];
  let runner: Replica;
  let other: Replica;

  beforeAll(async () => {
    // The default lease TTL: a cancel must not wait for a lease renewal to be noticed.
    replicas = await startReplicas({ env: { CHAT_BUSY_WAIT_MS: String(BUSY_WAIT_MS) } });
    [runner, other] = replicas;
  });
  afterAll(() => closeReplicas(replicas));
  beforeEach(() => replicas.forEach((replica) => replica.h.sim.reset()));

  /** A streamed turn on the runner whose model answers `text`, then holds until `release`. */
  const heldTurn = async (userId: string, body: Record<string, unknown>, text: string, release: Promise<unknown>) => {
    runner.h.sim.enqueue({ kind: 'held_text', text, release, rest: ' And the rest.' });
    const live = await postChatStream(runner, userId, body);
    const turn = turnOf(await live.waitFor(isEvent('turn.started')));
    if (text) await live.waitFor(isEvent('text.delta'));
    return { live, turn };
  };

  /** Cancels from `from` and waits for `stream` to end with turn.completed; how long that took. */
  const cancelAndWait = async (from: Replica, userId: string, turn: ReturnType<typeof turnOf>, stream: LiveStream) => {
    const cancelledAt = Date.now();
    const accepted = await cancelTurn(from, userId, turn);
    const completed = await stream.waitFor(isEvent('turn.completed'));
    return { accepted, completed, elapsedMs: Date.now() - cancelledAt };
  };

  describe('POST .../turns/{turn_id}/cancel', () => {
    it('stops a turn mid-answer from the other replica within 1 s: 202, every stream ends with turn.completed cancelled, the partial answer and its usage stored', async () => {
      const userId = newUserId();
      const { live, turn } = await heldTurn(userId, { message: 'write a long essay' }, 'The first words', NEVER);
      const viewer = await attach(other, userId, turn);
      await viewer.waitFor(isEvent('text.delta'));

      const { accepted, completed, elapsedMs } = await cancelAndWait(other, userId, turn, live);
      await Promise.all([live.ended, viewer.ended]);

      expect(accepted.statusCode).toBe(202);
      expect(accepted.json()).toEqual({ turn_id: turn.turnId, conversation_id: turn.conversationId });
      expect(elapsedMs).toBeLessThan(CANCEL_WITHIN_MS);
      expect(completed.data).toMatchObject({
        turn_id: turn.turnId,
        conversation_id: turn.conversationId,
        response: 'The first words',
        stop_reason: 'cancelled',
      });
      // The cut-off model call cost its input: message_start reported it before the cancel.
      expect(completed.data.usage).toMatchObject({ input_tokens: expect.any(Number) });
      expect((completed.data.usage as { input_tokens: number }).input_tokens).toBeGreaterThan(0);
      expect(live.events.at(-1)).toEqual(completed);
      expect(viewer.events.at(-1)).toEqual(completed);
      expect(await messagesOf(runner.h.t.dataSource, turn.conversationId)).toEqual([
        expect.objectContaining({ role: 'user', status: 'completed' }),
        expect.objectContaining({
          role: 'assistant',
          content: 'The first words',
          status: 'completed',
          stop_reason: 'cancelled',
        }),
      ]);
      expect((await getConversation(other, userId, turn.conversationId)).json().active_turn).toBeNull();
    });

    it('stops a turn mid-tool-call: the abandoned call gets tool.finished with is_error, no further model call, turn.completed cancelled', async () => {
      const userId = newUserId();
      runner.h.sim.enqueue({
        kind: 'tool_use',
        text: 'Let me wait for it.',
        calls: [{ name: 'hang', input: {}, id: 'toolu_hang' }],
      });
      const live = await postChatStream(runner, userId, { message: 'wait forever' });
      const turn = turnOf(await live.waitFor(isEvent('turn.started')));
      await live.waitFor(isEvent('tool.started'));

      const { accepted, completed, elapsedMs } = await cancelAndWait(other, userId, turn, live);
      await live.ended;

      expect(accepted.statusCode).toBe(202);
      expect(elapsedMs).toBeLessThan(CANCEL_WITHIN_MS);
      const finished = live.events.find(isEvent('tool.finished'));
      expect(finished?.data).toMatchObject({ id: 'toolu_hang', is_error: true });
      expect(live.events.indexOf(finished!)).toBeLessThan(live.events.indexOf(completed));
      expect(completed.data).toMatchObject({
        stop_reason: 'cancelled',
        tool_calls: [expect.objectContaining({ id: 'toolu_hang', tool: 'hang', server: 'echo', is_error: true })],
      });
      expect(modelCalls(replicas)).toBe(1);
      const history = await other.h.t.app.inject({
        method: 'GET',
        url: `/api/${userId}/chat/${turn.conversationId}/history`,
        headers: other.h.t.authHeaders(userId),
      });
      expect(history.json().messages).toEqual([
        expect.objectContaining({ role: 'user', status: 'completed' }),
        expect.objectContaining({
          role: 'assistant',
          status: 'completed',
          tool_calls: [expect.objectContaining({ id: 'toolu_hang', is_error: true })],
        }),
      ]);
    });

    it('stops a turn before its first token: turn.completed cancelled with an empty answer, and the conversation goes on', async () => {
      const userId = newUserId();
      const { live, turn } = await heldTurn(userId, { message: 'think hard first' }, '', NEVER);

      const { accepted, completed } = await cancelAndWait(other, userId, turn, live);
      const next = await other.h.send({ message: 'never mind', conversation_id: turn.conversationId }, userId);

      expect(accepted.statusCode).toBe(202);
      expect(completed.data).toMatchObject({ response: '', stop_reason: 'cancelled' });
      expect(next.statusCode).toBe(200);
      const messages = await messagesOf(runner.h.t.dataSource, turn.conversationId);
      expect(messages.map((message) => [message.role, message.status, message.stop_reason])).toEqual([
        ['user', 'completed', null],
        ['assistant', 'completed', 'cancelled'],
        ['user', 'completed', null],
        ['assistant', 'completed', 'end_turn'],
      ]);
    });

    it('answers 409 turn_not_running to a cancel of a finished turn, and to a second cancel', async () => {
      const userId = newUserId();
      const finished = (await runner.h.send({ message: 'quick one' }, userId)).json();
      const { live, turn } = await heldTurn(
        userId,
        { message: 'slow one', conversation_id: finished.conversation_id },
        'Slow',
        NEVER,
      );
      await cancelAndWait(other, userId, turn, live);

      const late = await cancelTurn(other, userId, {
        conversationId: finished.conversation_id,
        turnId: finished.turn_id,
      });
      const again = await cancelTurn(other, userId, turn);

      for (const response of [late, again]) {
        expect(response.statusCode).toBe(409);
        expect(response.headers['content-type']).toContain('application/problem+json');
        expect(response.json().code).toBe('turn_not_running');
      }
    });

    it('answers 404 turn_not_found to a cancel of another user’s running turn, which goes on to finish', async () => {
      const owner = newUserId();
      const rest = gate();
      const { live, turn } = await heldTurn(owner, { message: 'mine alone' }, 'Mine', rest.promise);

      const foreign = await cancelTurn(other, newUserId(), turn);
      rest.open();
      const completed = await live.waitFor(isEvent('turn.completed'));

      expect(foreign.statusCode).toBe(404);
      expect(foreign.json().code).toBe('turn_not_found');
      expect(completed.data).toMatchObject({ response: 'Mine And the rest.', stop_reason: 'end_turn' });
    });

    it('answers 404 turn_not_found for an unknown turn and an unknown conversation', async () => {
      const userId = newUserId();
      const { conversation_id: conversationId, turn_id: turnId } = (
        await runner.h.send({ message: 'hello' }, userId)
      ).json();

      const unknownTurn = await cancelTurn(other, userId, { conversationId, turnId: randomUUID() });
      const unknownConversation = await cancelTurn(other, userId, { conversationId: randomUUID(), turnId });

      for (const response of [unknownTurn, unknownConversation]) {
        expect(response.statusCode).toBe(404);
        expect(response.json().code).toBe('turn_not_found');
      }
    });

    it('answers 401 without a token and 403 for another user’s path', async () => {
      const url = `${turnPath(newUserId(), randomUUID(), randomUUID())}/cancel`;

      const anonymous = await other.h.t.app.inject({ method: 'POST', url });
      const impostor = await other.h.t.app.inject({ method: 'POST', url, headers: other.h.t.authHeaders(newUserId()) });

      expect(anonymous.statusCode).toBe(401);
      expect(impostor.statusCode).toBe(403);
    });
  });

  describe('on_busy on POST .../chat', () => {
    it.each([
      ['by default', {}],
      ['with on_busy: wait', { on_busy: 'wait' }],
    ])('waits %s for the running turn to end, then runs', async (_, busy) => {
      const userId = newUserId();
      const rest = gate();
      const { live, turn } = await heldTurn(userId, { message: 'first' }, 'First', rest.promise);

      const second = other.h.send({ message: 'second', conversation_id: turn.conversationId, ...busy }, userId);
      // Nothing outside shows a request waiting for the lease: give it time to start waiting.
      await sleep(300);
      rest.open();
      const [answer] = await Promise.all([second, live.ended]);

      expect(answer.statusCode).toBe(200);
      expect(live.events.at(-1)?.data.stop_reason).toBe('end_turn');
      const messages = await messagesOf(runner.h.t.dataSource, turn.conversationId);
      expect(messages.map((message) => [message.role, message.content])).toEqual([
        ['user', 'first'],
        ['assistant', 'First And the rest.'],
        ['user', 'second'],
        ['assistant', 'Echo: second'],
      ]);
    });

    it('answers 409 conversation_busy with Retry-After once the wait runs out (on_busy: wait)', async () => {
      const userId = newUserId();
      const { live, turn } = await heldTurn(userId, { message: 'long' }, 'Long', NEVER);

      const startedAt = Date.now();
      const busy = await other.h.send(
        { message: 'me too', conversation_id: turn.conversationId, on_busy: 'wait' },
        userId,
      );
      const waitedMs = Date.now() - startedAt;
      await cancelAndWait(runner, userId, turn, live);

      expect(busy.statusCode).toBe(409);
      expect(busy.json().code).toBe('conversation_busy');
      expect(busy.headers['retry-after']).toBeDefined();
      expect(waitedMs).toBeGreaterThanOrEqual(BUSY_WAIT_MS - 100);
    });

    it('answers 409 conversation_busy at once with on_busy: reject, storing nothing', async () => {
      const userId = newUserId();
      const { live, turn } = await heldTurn(userId, { message: 'long' }, 'Long', NEVER);

      const startedAt = Date.now();
      const busy = await other.h.send(
        { message: 'not now', conversation_id: turn.conversationId, on_busy: 'reject' },
        userId,
      );
      const waitedMs = Date.now() - startedAt;
      await cancelAndWait(runner, userId, turn, live);

      expect(busy.statusCode).toBe(409);
      expect(busy.json().code).toBe('conversation_busy');
      expect(busy.headers['retry-after']).toBeDefined();
      expect(waitedMs).toBeLessThan(BUSY_WAIT_MS / 2);
      const messages = await messagesOf(runner.h.t.dataSource, turn.conversationId);
      expect(messages.map((message) => message.content)).not.toContain('not now');
    });

    it('cancels the running turn with on_busy: interrupt, then runs the new message: the old one ends cancelled, history alternates', async () => {
      const userId = newUserId();
      const { live, turn } = await heldTurn(userId, { message: 'ramble on' }, 'Rambling', NEVER);

      const answer = await other.h.send(
        { message: 'stop, new question', conversation_id: turn.conversationId, on_busy: 'interrupt' },
        userId,
      );
      await live.ended;

      expect(answer.statusCode).toBe(200);
      expect(answer.json()).toMatchObject({ response: 'Echo: stop, new question', stop_reason: 'end_turn' });
      expect(live.events.at(-1)).toMatchObject({
        event: 'turn.completed',
        data: { turn_id: turn.turnId, response: 'Rambling', stop_reason: 'cancelled' },
      });
      const messages = await messagesOf(runner.h.t.dataSource, turn.conversationId);
      expect(messages.map((message) => [message.role, message.content, message.status, message.stop_reason])).toEqual([
        ['user', 'ramble on', 'completed', null],
        ['assistant', 'Rambling', 'completed', 'cancelled'],
        ['user', 'stop, new question', 'completed', null],
        ['assistant', 'Echo: stop, new question', 'completed', 'end_turn'],
      ]);
    });

    it('lets two senders interrupt at once on different replicas: each answered 200 or 409, never interleaving, history alternating', async () => {
      const userId = newUserId();
      const { live, turn } = await heldTurn(userId, { message: 'first' }, 'First', NEVER);
      for (const replica of replicas) {
        replica.h.sim.respondWith(() => ({ kind: 'stall', ms: 100, then: { kind: 'text', text: 'interrupted you' } }));
      }

      const answers = await Promise.all(
        ['one', 'two'].map((message, index) =>
          replicas[index].h.send({ message, conversation_id: turn.conversationId, on_busy: 'interrupt' }, userId),
        ),
      );
      await live.ended;

      const statuses = answers.map((answer) => answer.statusCode);
      expect(statuses.filter((status) => status !== 200 && status !== 409)).toEqual([]);
      expect(statuses).toContain(200);
      for (const refused of answers.filter((answer) => answer.statusCode === 409)) {
        expect(refused.json().code).toBe('conversation_busy');
      }
      expect(live.events.at(-1)?.data.stop_reason).toBe('cancelled');
      const messages = await messagesOf(runner.h.t.dataSource, turn.conversationId);
      expectAlternating(messages);
      const stored = messages.map((message) => message.content);
      for (const [index, answer] of answers.entries()) {
        expect(stored.includes(['one', 'two'][index])).toBe(answer.statusCode === 200);
      }
    });

    it.each(['reject', 'interrupt'])('runs at once with on_busy: %s when no turn is running', async (onBusy) => {
      const userId = newUserId();
      const { conversation_id: conversationId } = (await runner.h.send({ message: 'first' }, userId)).json();

      const answer = await other.h.send(
        { message: 'second', conversation_id: conversationId, on_busy: onBusy },
        userId,
      );

      expect(answer.statusCode).toBe(200);
      expect(answer.json()).toMatchObject({ response: 'Echo: second', stop_reason: 'end_turn' });
    });

    it('answers 400 for an on_busy other than wait, reject or interrupt', async () => {
      const response = await other.h.send({ message: 'hello', on_busy: 'queue' });

      expect(response.statusCode).toBe(400);
      expect(response.json().errors).toEqual([expect.objectContaining({ field: 'on_busy' })]);
    });
  });
});
