import { deferred, type Deferred } from '../../../test/support/deferred';
import type { TurnEventRecord, TurnRef } from './turn-event';
import type { TurnEventHub, TurnWatcher } from './turn-event-hub';
import { REPLAY_PAGE_SIZE } from './turn-event.repository';
import { TurnFollower, type FollowOptions } from './turn-follower';

const REF: TurnRef = { userId: 'user-1', conversationId: 'conversation-1', turnId: 'turn-1' };

const delta = (seq: number): TurnEventRecord => ({ seq, type: 'text.delta', data: { text: `#${seq}` } });
const completed = (seq: number): TurnEventRecord => ({ seq, type: 'turn.completed', data: {} });
const deltas = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => delta(from + i));

/** The hub as a follower uses it: its watchers, and the turn's events, read one page at a time. */
class FakeHub implements Pick<TurnEventHub, 'watch' | 'eventsAfter'> {
  readonly watchers = new Set<TurnWatcher>();
  events: TurnEventRecord[] = [];
  /** The `seq` each read started after. */
  readonly reads: number[] = [];
  /** While set, each read waits until `release()`, and answers from the events as they are then. */
  holding = false;
  failing = false;
  private readonly gates: Deferred<void>[] = [];

  watch(watcher: TurnWatcher): () => void {
    this.watchers.add(watcher);
    return () => this.watchers.delete(watcher);
  }

  async eventsAfter(_ref: TurnRef, seq: number): Promise<TurnEventRecord[]> {
    this.reads.push(seq);
    if (this.holding) {
      const gate = deferred();
      this.gates.push(gate);
      await gate.promise;
    }
    if (this.failing) throw new Error('connection reset');
    return this.events.filter((event) => event.seq > seq).slice(0, REPLAY_PAGE_SIZE);
  }

  /** What the hub does with a live event: hand it to every watcher. */
  publish(...events: TurnEventRecord[]): void {
    for (const watcher of this.watchers) watcher.deliver(events);
  }

  async release(): Promise<void> {
    this.gates.shift()?.resolve();
    await settle();
  }
}

const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

function setUp(after = 0, options?: FollowOptions) {
  const hub = new FakeHub();
  const sent: number[] = [];
  const follower = new TurnFollower(
    hub as Partial<TurnEventHub> as TurnEventHub,
    REF,
    after,
    (event) => sent.push(event.seq),
    options,
  );
  return { follower, hub, sent };
}

describe(TurnFollower.name, () => {
  it('replays the events after `after`, then sends live ones as they come', async () => {
    const { follower, hub, sent } = setUp(1);
    hub.events = deltas(1, 3);

    void follower.start();
    await settle();
    expect(sent).toEqual([2, 3]);
    hub.publish(delta(4));

    expect(sent).toEqual([2, 3, 4]);
    expect(hub.reads).toEqual([1]);
  });

  it('watches before it replays, so an event published during the replay is not missed', async () => {
    const { follower, hub, sent } = setUp();
    hub.events = deltas(1, 3);
    hub.holding = true;

    void follower.start();
    expect(hub.watchers.has(follower)).toBe(true);
    hub.publish(delta(4));
    expect(sent).toEqual([]);
    await hub.release();

    expect(sent).toEqual([1, 2, 3, 4]);
  });

  it('sends each event once and in order when live events overlap the replay', async () => {
    const { follower, hub, sent } = setUp();
    hub.events = deltas(1, 5);
    hub.holding = true;

    void follower.start();
    hub.publish(delta(3), delta(4));
    hub.publish(delta(5));
    hub.publish(delta(6));
    await hub.release();

    expect(sent).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('skips events it has already sent', async () => {
    const { follower, hub, sent } = setUp();
    hub.events = deltas(1, 3);
    void follower.start();
    await settle();

    hub.publish(delta(2), delta(3));
    hub.publish(delta(3), delta(4));

    expect(sent).toEqual([1, 2, 3, 4]);
    expect(hub.reads).toEqual([0]);
  });

  it('reads the log over a gap instead of sending out of order', async () => {
    const { follower, hub, sent } = setUp();
    hub.events = deltas(1, 2);
    void follower.start();
    await settle();

    hub.events = deltas(1, 5);
    hub.publish(delta(5));
    expect(sent).toEqual([1, 2]);
    await settle();

    expect(hub.reads).toEqual([0, 2]);
    expect(sent).toEqual([1, 2, 3, 4, 5]);
  });

  it('reads page after page when the replay is longer than one', async () => {
    const { follower, hub, sent } = setUp();
    hub.events = deltas(1, REPLAY_PAGE_SIZE + 2);

    void follower.start();
    await settle();

    expect(hub.reads).toEqual([0, REPLAY_PAGE_SIZE]);
    expect(sent).toHaveLength(REPLAY_PAGE_SIZE + 2);
  });

  it('calls afterReplay once when the replay ends without the terminal event', async () => {
    const afterReplay = jest.fn();
    const { follower, hub } = setUp(0, { afterReplay });
    hub.events = deltas(1, 2);

    void follower.start();
    await settle();

    expect(afterReplay).toHaveBeenCalledTimes(1);
    expect(afterReplay).toHaveBeenCalledWith(follower);
  });

  it('stops after the terminal event: it ends, unwatches and sends nothing more', async () => {
    const afterReplay = jest.fn();
    const { follower, hub, sent } = setUp(0, { afterReplay });
    hub.events = [...deltas(1, 2), completed(3), delta(4)];

    await follower.start();
    hub.publish(delta(4));

    expect(sent).toEqual([1, 2, 3]);
    expect(follower.finishedSending).toBe(true);
    expect(hub.watchers.size).toBe(0);
    await settle();
    expect(afterReplay).not.toHaveBeenCalled();
  });

  it('stops after a live terminal event, not sending what follows it in the same delivery', async () => {
    const { follower, hub, sent } = setUp();
    void follower.start();
    await settle();

    hub.publish(delta(1), completed(2), delta(3));

    await follower.ended;
    expect(sent).toEqual([1, 2]);
    expect(hub.watchers.size).toBe(0);
  });

  it('sends the event of finishWith once and ends the stream', async () => {
    const { follower, hub, sent } = setUp();
    hub.events = deltas(1, 2);
    void follower.start();
    await settle();

    follower.finishWith(completed(7));
    follower.finishWith(completed(7));

    await follower.ended;
    expect(sent).toEqual([1, 2, 7]);
    expect(hub.watchers.size).toBe(0);
  });

  it('sends nothing from finishWith once the terminal event was sent', async () => {
    const { follower, hub, sent } = setUp();
    hub.events = [delta(1), completed(2)];
    await follower.start();

    follower.finishWith(completed(2));

    expect(sent).toEqual([1, 2]);
  });

  it('ends without throwing when the log cannot be read', async () => {
    const { follower, hub, sent } = setUp();
    hub.failing = true;

    await expect(follower.start()).resolves.toBeUndefined();

    expect(sent).toEqual([]);
    expect(follower.finishedSending).toBe(true);
    expect(hub.watchers.size).toBe(0);
  });

  it('ends, keeping what it sent, when the read over a gap fails', async () => {
    const { follower, hub, sent } = setUp();
    hub.events = deltas(1, 2);
    void follower.start();
    await settle();

    hub.failing = true;
    hub.publish(delta(5));
    await follower.ended;

    expect(sent).toEqual([1, 2]);
    expect(follower.last).toBe(2);
    expect(hub.watchers.size).toBe(0);
  });

  // TurnEvents' afterReplay rejects when the stored answer cannot be read: the stream ends, the process goes on.
  it('ends when afterReplay fails, instead of leaving its rejection unhandled', async () => {
    const afterReplay = jest.fn().mockRejectedValue(new Error('database down'));
    const { follower, hub } = setUp(0, { afterReplay });
    hub.events = deltas(1, 2);

    void follower.start();
    await settle();

    expect(afterReplay).toHaveBeenCalledTimes(1);
    expect(follower.finishedSending).toBe(true);
  });
});
