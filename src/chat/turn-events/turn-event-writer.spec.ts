import type { Logger } from '@nestjs/common';
import { deferred, type Deferred } from '../../../test/support/deferred';
import type { TurnEventRecord, TurnEventType, TurnRef } from './turn-event';
import type { LocalTurnEvents, TurnEventHub } from './turn-event-hub';
import { TurnEventWriter } from './turn-event-writer';
import type { TurnEventRepository } from './turn-event.repository';

const REF: TurnRef = { userId: 'user-1', conversationId: 'conversation-1', turnId: 'turn-1' };
const COALESCE_MS = 20;
// The writer's own pacing, not configurable: at most one write per 10 ms, 3 final attempts 200 ms apart.
const WRITE_INTERVAL_MS = 10;
const FINAL_WRITE_ATTEMPTS = 3;
const RETRY_MS = 200;

/** The hub as a writer uses it: the events handed to this replica's watchers, and the turn while it is open. */
class FakeHub implements Pick<TurnEventHub, 'openLocal' | 'closeLocal' | 'publishLocal'> {
  readonly delivered: TurnEventRecord[] = [];
  local?: LocalTurnEvents;

  openLocal(_turnId: string, events: LocalTurnEvents): void {
    this.local = events;
  }

  closeLocal(): void {
    this.local = undefined;
  }

  publishLocal(_turnId: string, event: TurnEventRecord): void {
    this.delivered.push(event);
  }
}

/** The log: every append's batch, what was stored; appends can be held in flight or made to fail. */
class FakeLog implements Pick<TurnEventRepository, 'append'> {
  readonly appends: TurnEventRecord[][] = [];
  readonly stored: TurnEventRecord[] = [];
  /** The next this many appends fail. */
  failures = 0;
  /** While set, each append waits until `release()`. */
  holding = false;
  inFlight = 0;
  maxInFlight = 0;
  private readonly gates: Deferred<void>[] = [];

  async append(_ref: TurnRef, events: readonly TurnEventRecord[]): Promise<void> {
    this.appends.push([...events]);
    this.maxInFlight = Math.max(this.maxInFlight, ++this.inFlight);
    try {
      if (this.holding) {
        const gate = deferred();
        this.gates.push(gate);
        await gate.promise;
      }
      if (this.failures > 0) {
        this.failures -= 1;
        throw new Error('connection reset');
      }
      this.stored.push(...events);
    } finally {
      this.inFlight -= 1;
    }
  }

  /** Lets the oldest held append finish, and the writer react to it. */
  async release(): Promise<void> {
    this.gates.shift()?.resolve();
    await jest.advanceTimersByTimeAsync(0);
  }
}

function setUp(coalesceMs = COALESCE_MS) {
  const hub = new FakeHub();
  const log = new FakeLog();
  const logger = { warn: jest.fn(), error: jest.fn() };
  const writer = new TurnEventWriter(
    REF,
    hub as Partial<TurnEventHub> as TurnEventHub,
    log as Partial<TurnEventRepository> as TurnEventRepository,
    coalesceMs,
    logger as Partial<Logger> as Logger,
  );
  return { writer, hub, log, logger };
}

const seqs = (events: readonly TurnEventRecord[]) => events.map((event) => event.seq);
const types = (events: readonly TurnEventRecord[]): TurnEventType[] => events.map((event) => event.type);

describe(TurnEventWriter.name, () => {
  beforeEach(() => jest.useFakeTimers());

  afterEach(() => {
    jest.clearAllTimers();
    jest.useRealTimers();
  });

  describe('numbering and coalescing', () => {
    it('numbers events 1, 2, 3… in publish order and hands each to the hub at once', () => {
      const { writer, hub } = setUp();

      writer.publish('turn.started', { turn_id: REF.turnId });
      writer.text('Hello');
      writer.publish('tool.started', { id: 'call-1' });

      expect(hub.delivered).toEqual([
        { seq: 1, type: 'turn.started', data: { turn_id: REF.turnId } },
        { seq: 2, type: 'text.delta', data: { text: 'Hello' } },
        { seq: 3, type: 'tool.started', data: { id: 'call-1' } },
      ]);
    });

    it('sends the first text delta at once and merges later ones within coalesceMs into one event when the window ends', async () => {
      const { writer, hub } = setUp();

      writer.text('a');
      expect(hub.delivered).toEqual([{ seq: 1, type: 'text.delta', data: { text: 'a' } }]);
      await jest.advanceTimersByTimeAsync(5);
      writer.text('b');
      await jest.advanceTimersByTimeAsync(5);
      writer.text('c');
      await jest.advanceTimersByTimeAsync(COALESCE_MS - 11);
      expect(hub.delivered).toHaveLength(1);

      await jest.advanceTimersByTimeAsync(1);
      expect(hub.delivered).toEqual([
        { seq: 1, type: 'text.delta', data: { text: 'a' } },
        { seq: 2, type: 'text.delta', data: { text: 'bc' } },
      ]);
    });

    it('sends a delta at once when coalesceMs has passed since the previous one', async () => {
      const { writer, hub } = setUp();

      writer.text('a');
      await jest.advanceTimersByTimeAsync(COALESCE_MS);
      writer.text('b');

      expect(hub.delivered.map((event) => event.data)).toEqual([{ text: 'a' }, { text: 'b' }]);
    });

    it('flushes a pending delta before a non-delta event, keeping their order', async () => {
      const { writer, hub } = setUp();

      writer.text('a');
      await jest.advanceTimersByTimeAsync(1);
      writer.text('b');
      writer.publish('tool.started', { id: 'call-1' });
      await jest.advanceTimersByTimeAsync(COALESCE_MS * 2);

      expect(hub.delivered).toEqual([
        { seq: 1, type: 'text.delta', data: { text: 'a' } },
        { seq: 2, type: 'text.delta', data: { text: 'b' } },
        { seq: 3, type: 'tool.started', data: { id: 'call-1' } },
      ]);
    });

    it('merges nothing when coalesceMs is 0', () => {
      const { writer, hub } = setUp(0);

      writer.text('a');
      writer.text('b');
      writer.text('c');

      expect(hub.delivered.map((event) => event.data)).toEqual([{ text: 'a' }, { text: 'b' }, { text: 'c' }]);
    });

    it('serves after(n) from memory, written or not, once opened on the hub', () => {
      const { writer, hub, log } = setUp();
      writer.publish('turn.started', {});
      writer.text('a');
      writer.publish('tool.started', { id: 'call-1' });

      expect(hub.local).toBe(writer);
      expect(log.appends).toEqual([]);
      expect(seqs(writer.after(0) ?? [])).toEqual([1, 2, 3]);
      expect(writer.after(2)).toEqual([{ seq: 3, type: 'tool.started', data: { id: 'call-1' } }]);
      expect(writer.after(3)).toEqual([]);
    });
  });

  describe('writing the log', () => {
    it('writes a burst of events in one append once the write interval has passed', async () => {
      const { writer, log } = setUp();

      writer.publish('turn.started', {});
      writer.text('a');
      writer.publish('tool.started', { id: 'call-1' });
      await jest.advanceTimersByTimeAsync(WRITE_INTERVAL_MS - 1);
      expect(log.appends).toEqual([]);

      await jest.advanceTimersByTimeAsync(1);
      expect(log.appends.map(seqs)).toEqual([[1, 2, 3]]);
    });

    it('keeps at most one append in flight; what is published meanwhile goes in the next one', async () => {
      const { writer, log } = setUp();
      log.holding = true;

      writer.publish('turn.started', {});
      await jest.advanceTimersByTimeAsync(WRITE_INTERVAL_MS);
      writer.publish('tool.started', { id: 'call-1' });
      writer.publish('tool.finished', { id: 'call-1' });
      await jest.advanceTimersByTimeAsync(10 * WRITE_INTERVAL_MS);
      expect(log.appends.map(seqs)).toEqual([[1]]);

      await log.release();
      expect(log.appends.map(seqs)).toEqual([[1], [2, 3]]);
      await log.release();

      expect(log.maxInFlight).toBe(1);
      expect(seqs(log.stored)).toEqual([1, 2, 3]);
    });

    it('writes the terminal event at once, without waiting for the write interval', () => {
      const { writer, log } = setUp();

      writer.publish('turn.started', {});
      void writer.finish('turn.completed', {});

      expect(log.appends.map(types)).toEqual([['turn.started', 'turn.completed']]);
    });

    it('writes the terminal event as soon as the append in flight ends', async () => {
      const { writer, log } = setUp();
      log.holding = true;
      writer.publish('turn.started', {});
      await jest.advanceTimersByTimeAsync(WRITE_INTERVAL_MS);

      void writer.finish('turn.completed', {});
      expect(log.appends).toHaveLength(1);
      // Released within the interval: an ordinary event would wait for it, the terminal one does not.
      await log.release();

      expect(log.appends.map(types)).toEqual([['turn.started'], ['turn.completed']]);
    });

    it('resolves finish once every event is in the log, then closes the turn on the hub', async () => {
      const { writer, hub, log } = setUp();
      log.holding = true;
      writer.publish('turn.started', {});
      await jest.advanceTimersByTimeAsync(WRITE_INTERVAL_MS);
      writer.text('a');

      let finished = false;
      const done = writer.finish('turn.completed', {}).then(() => (finished = true));
      await log.release();
      expect(finished).toBe(false);
      expect(hub.local).toBe(writer);
      await log.release();
      await done;

      expect(seqs(log.stored)).toEqual([1, 2, 3]);
      expect(hub.local).toBeUndefined();
    });

    it('retries a failed write with the next one while the turn runs', async () => {
      const { writer, log, logger } = setUp();
      log.failures = 1;

      writer.publish('turn.started', {});
      await jest.advanceTimersByTimeAsync(WRITE_INTERVAL_MS);
      expect(logger.warn).toHaveBeenCalledTimes(1);
      writer.publish('tool.started', { id: 'call-1' });
      await jest.advanceTimersByTimeAsync(WRITE_INTERVAL_MS);

      expect(log.appends.map(seqs)).toEqual([[1], [1, 2]]);
      expect(seqs(log.stored)).toEqual([1, 2]);
    });

    it('retries a failed final write after a pause and resolves once it succeeds', async () => {
      const { writer, hub, log, logger } = setUp();
      log.failures = 1;
      writer.publish('turn.started', {});

      const done = writer.finish('turn.completed', {});
      await jest.advanceTimersByTimeAsync(RETRY_MS);
      await done;

      expect(log.appends.map(seqs)).toEqual([
        [1, 2],
        [1, 2],
      ]);
      expect(seqs(log.stored)).toEqual([1, 2]);
      expect(logger.error).not.toHaveBeenCalled();
      expect(hub.local).toBeUndefined();
    });

    it(`gives up after ${FINAL_WRITE_ATTEMPTS} failed final writes: finish logs the loss, resolves and closes the turn`, async () => {
      const { writer, hub, log, logger } = setUp();
      log.failures = Infinity;
      writer.publish('turn.started', {});

      const done = writer.finish('turn.failed', {});
      await jest.advanceTimersByTimeAsync(FINAL_WRITE_ATTEMPTS * RETRY_MS);

      await expect(done).resolves.toBeUndefined();
      expect(log.appends).toHaveLength(FINAL_WRITE_ATTEMPTS);
      expect(logger.error).toHaveBeenCalledWith('could not write the last 2 event(s) of turn turn-1');
      expect(hub.local).toBeUndefined();
      expect(jest.getTimerCount()).toBe(0);
    });
  });
});
