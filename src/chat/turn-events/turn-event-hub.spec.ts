import { deferred, type Deferred } from '../../../test/support/deferred';
import { loadConfig } from '../../config/app-config';
import type { DatabaseNotifications, NotificationMode } from '../../database/database-notifications';
import { TURN_EVENTS_CHANNEL, type TurnEventRecord, type TurnRef } from './turn-event';
import { LISTEN_SAFETY_POLL_MS, TurnEventHub, type LocalTurnEvents, type TurnWatcher } from './turn-event-hub';
import { REPLAY_PAGE_SIZE, type TurnEventRepository } from './turn-event.repository';

const POLL_MS = 250;

const refOf = (turnId: string): TurnRef => ({ userId: 'user-1', conversationId: 'conversation-1', turnId });
const delta = (seq: number): TurnEventRecord => ({ seq, type: 'text.delta', data: { text: `#${seq}` } });
const deltas = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => delta(from + i));

/** The turn_events table: each turn's events, and every read of it; reads can be held in flight or fail. */
class FakeLog implements Pick<TurnEventRepository, 'after'> {
  readonly events = new Map<string, TurnEventRecord[]>();
  readonly reads: { turnId: string; after: number }[] = [];
  holding = false;
  failing = false;
  private readonly gates: Deferred<void>[] = [];

  async after(ref: TurnRef, seq: number, limit = REPLAY_PAGE_SIZE): Promise<TurnEventRecord[]> {
    this.reads.push({ turnId: ref.turnId, after: seq });
    if (this.holding) {
      const gate = deferred();
      this.gates.push(gate);
      await gate.promise;
    }
    if (this.failing) throw new Error('connection reset');
    return (this.events.get(ref.turnId) ?? []).filter((event) => event.seq > seq).slice(0, limit);
  }

  async release(): Promise<void> {
    this.gates.shift()?.resolve();
    await jest.advanceTimersByTimeAsync(0);
  }
}

/** What the hub hears from other replicas: a NOTIFY on the turn-events channel, or a LISTEN reconnect. */
class FakeNotifications implements Pick<DatabaseNotifications, 'mode' | 'on' | 'onReconnect'> {
  private readonly handlers: ((payload: string) => void)[] = [];
  private readonly reconnectHandlers: (() => void)[] = [];

  constructor(readonly mode: NotificationMode) {}

  on(channel: string, handler: (payload: string) => void): void {
    if (channel === TURN_EVENTS_CHANNEL) this.handlers.push(handler);
  }

  onReconnect(handler: () => void): void {
    this.reconnectHandlers.push(handler);
  }

  notify(turnId: string): void {
    for (const handler of this.handlers) handler(turnId);
  }

  reconnect(): void {
    for (const handler of this.reconnectHandlers) handler();
  }
}

/** A follower reduced to what the hub sees: it takes the next event it lacks, in order. */
class RecordingWatcher implements TurnWatcher {
  readonly received: number[] = [];

  constructor(
    readonly ref: TurnRef,
    public last = 0,
  ) {}

  deliver(events: readonly TurnEventRecord[]): void {
    for (const event of events) {
      if (event.seq !== this.last + 1) continue;
      this.received.push(event.seq);
      this.last = event.seq;
    }
  }
}

function setUp(mode: NotificationMode = 'listen') {
  const log = new FakeLog();
  const notifications = new FakeNotifications(mode);
  const config = loadConfig({ NODE_ENV: 'test', JWT_SECRET: 'hub-spec', CHAT_TURN_EVENTS_POLL_MS: String(POLL_MS) });
  const hub = new TurnEventHub(
    log as Partial<TurnEventRepository> as TurnEventRepository,
    notifications as Partial<DatabaseNotifications> as DatabaseNotifications,
    config,
  );
  const watch = (turnId: string, last = 0) => {
    const watcher = new RecordingWatcher(refOf(turnId), last);
    return { watcher, unwatch: hub.watch(watcher) };
  };
  return { hub, log, notifications, watch };
}

/** A turn running here, as its writer holds it. */
const localTurn = (events: TurnEventRecord[]): LocalTurnEvents => ({ after: (seq) => events.slice(seq) });

describe(TurnEventHub.name, () => {
  beforeEach(() => jest.useFakeTimers());

  afterEach(() => {
    jest.clearAllTimers();
    jest.useRealTimers();
  });

  describe('a turn running on this replica', () => {
    it('delivers each published event to every watcher at once, without reading the log', () => {
      const { hub, log, watch } = setUp();
      hub.openLocal('t1', localTurn([]));
      const a = watch('t1');
      const b = watch('t1');
      const other = watch('t2');

      hub.publishLocal('t1', delta(1));
      hub.publishLocal('t1', delta(2));

      expect(a.watcher.received).toEqual([1, 2]);
      expect(b.watcher.received).toEqual([1, 2]);
      expect(other.watcher.received).toEqual([]);
      expect(log.reads).toEqual([]);
    });

    it('serves eventsAfter from memory while it runs, and from the log once closed', async () => {
      const { hub, log } = setUp();
      hub.openLocal('t1', localTurn(deltas(1, 3)));

      expect(await hub.eventsAfter(refOf('t1'), 1)).toEqual(deltas(2, 3));
      expect(log.reads).toEqual([]);

      hub.closeLocal('t1');
      log.events.set('t1', deltas(1, 3));
      expect(await hub.eventsAfter(refOf('t1'), 1)).toEqual(deltas(2, 3));
      expect(log.reads).toEqual([{ turnId: 't1', after: 1 }]);
    });

    it('reads nothing on a notification for it: its watchers already have every event', async () => {
      const { hub, log, notifications, watch } = setUp();
      hub.openLocal('t1', localTurn([]));
      watch('t1');

      notifications.notify('t1');
      await jest.advanceTimersByTimeAsync(0);

      expect(log.reads).toEqual([]);
    });
  });

  describe('a turn running on another replica', () => {
    it('reads the log once per notification however many watch it, from the lowest last among them', async () => {
      const { log, notifications, watch } = setUp();
      log.events.set('t1', deltas(1, 8));
      const watchers = [watch('t1', 4), watch('t1', 2), watch('t1', 7)].map(({ watcher }) => watcher);

      notifications.notify('t1');
      await jest.advanceTimersByTimeAsync(0);

      expect(log.reads).toEqual([{ turnId: 't1', after: 2 }]);
      expect(watchers.map((watcher) => watcher.received)).toEqual([[5, 6, 7, 8], [3, 4, 5, 6, 7, 8], [8]]);
    });

    it('reads exactly once more when notifications arrive during a read', async () => {
      const { log, notifications, watch } = setUp();
      log.events.set('t1', deltas(1, 2));
      const { watcher } = watch('t1');
      log.holding = true;

      notifications.notify('t1');
      log.events.set('t1', deltas(1, 4));
      notifications.notify('t1');
      notifications.notify('t1');
      notifications.notify('t1');
      expect(log.reads).toHaveLength(1);
      await log.release();
      expect(log.reads).toHaveLength(2);
      await log.release();

      expect(log.reads).toHaveLength(2);
      expect(watcher.received).toEqual([1, 2, 3, 4]);
    });

    it('reads nothing for a turn nobody on this replica watches', async () => {
      const { log, notifications, watch } = setUp();
      const { unwatch } = watch('t2');
      unwatch();

      notifications.notify('t1');
      notifications.notify('t2');
      await jest.advanceTimersByTimeAsync(0);

      expect(log.reads).toEqual([]);
    });

    it('drops a failed read; the next notification reads again', async () => {
      const { log, notifications, watch } = setUp();
      log.events.set('t1', deltas(1, 2));
      const { watcher } = watch('t1');
      log.failing = true;

      notifications.notify('t1');
      await jest.advanceTimersByTimeAsync(0);
      log.failing = false;
      notifications.notify('t1');
      await jest.advanceTimersByTimeAsync(0);

      expect(log.reads).toHaveLength(2);
      expect(watcher.received).toEqual([1, 2]);
    });

    it('reads every watched turn again after the LISTEN connection reconnects', async () => {
      const { log, notifications, watch } = setUp();
      watch('t1', 3);
      watch('t2');

      notifications.reconnect();
      await jest.advanceTimersByTimeAsync(0);

      expect(log.reads).toEqual([
        { turnId: 't1', after: 3 },
        { turnId: 't2', after: 0 },
      ]);
    });

    // readFor reads every page from the lowest `last`: a viewer still replaying must not starve those ahead of it.
    it('delivers the newest events to a watcher ahead of one that lags more than a page behind', async () => {
      const { log, notifications, watch } = setUp();
      const newest = REPLAY_PAGE_SIZE + 10;
      log.events.set('t1', deltas(1, newest));
      // A viewer that just attached and is still replaying, beside one that follows live.
      watch('t1', 0);
      const live = watch('t1', newest - 1).watcher;

      notifications.notify('t1');
      await jest.advanceTimersByTimeAsync(0);

      expect(live.received).toEqual([newest]);
    });

    // A change signalled after readFor's last `again` check, while the read is ending, must not be lost.
    it('reads again for a change signalled while the events of a read are handed out', async () => {
      const { hub, log, watch } = setUp();
      log.events.set('t1', deltas(1, 2));
      const { watcher } = watch('t1');
      const deliver = watcher.deliver.bind(watcher);
      // The log grows again, signalled from a promise continuation (as InterruptedTurns.seal calls changed).
      jest.spyOn(watcher, 'deliver').mockImplementationOnce((events) => {
        deliver(events);
        log.events.set('t1', deltas(1, 3));
        void Promise.resolve().then(() => hub.changed('t1'));
      });

      hub.changed('t1');
      await jest.advanceTimersByTimeAsync(0);

      expect(watcher.received).toEqual([1, 2, 3]);
    });
  });

  describe('without LISTEN', () => {
    it('reads the watched turns every CHAT_TURN_EVENTS_POLL_MS in poll mode, until shutdown', async () => {
      const { hub, log, watch } = setUp('poll');
      log.events.set('t1', deltas(1, 2));
      const { watcher } = watch('t1');
      hub.onApplicationBootstrap();

      await jest.advanceTimersByTimeAsync(POLL_MS - 1);
      expect(log.reads).toEqual([]);
      await jest.advanceTimersByTimeAsync(1);
      expect(watcher.received).toEqual([1, 2]);
      await jest.advanceTimersByTimeAsync(POLL_MS);
      expect(log.reads).toHaveLength(2);

      hub.beforeApplicationShutdown();
      await jest.advanceTimersByTimeAsync(10 * POLL_MS);
      expect(log.reads).toHaveLength(2);
    });

    it('does not poll in local mode (the embedded database has one writer: this process)', async () => {
      const { hub, log, watch } = setUp('local');
      watch('t1');
      hub.onApplicationBootstrap();

      await jest.advanceTimersByTimeAsync(10 * LISTEN_SAFETY_POLL_MS);

      expect(log.reads).toEqual([]);
    });

    it('with LISTEN, reads watched turns only every LISTEN_SAFETY_POLL_MS, so a lost notification only delays', async () => {
      const { hub, log, watch } = setUp('listen');
      watch('t1');
      hub.onApplicationBootstrap();

      await jest.advanceTimersByTimeAsync(LISTEN_SAFETY_POLL_MS - 1);
      expect(log.reads).toEqual([]);
      await jest.advanceTimersByTimeAsync(1);
      expect(log.reads).toHaveLength(1);
      hub.beforeApplicationShutdown();
    });
  });
});
