import { isTerminal, type TurnEventRecord, type TurnRef } from './turn-event';
import type { TurnEventHub, TurnWatcher } from './turn-event-hub';
import { REPLAY_PAGE_SIZE } from './turn-event.repository';

export interface FollowOptions {
  /** Called once the log is replayed without reaching the end: the turn may have ended long ago. */
  afterReplay?: (follower: TurnFollower) => void | Promise<void>;
}

/**
 * Sends a turn's events after `after` exactly once each and in order: it replays, then takes live events as
 * they come, and reads the log again over any gap. Resolves `ended` after the terminal event, or on `stop()`.
 */
export class TurnFollower implements TurnWatcher {
  last: number;
  private buffered: TurnEventRecord[] = [];
  private catchingUp = false;
  private finished = false;
  private unwatch: () => void = () => undefined;
  private resolveEnded!: () => void;
  readonly ended = new Promise<void>((resolve) => (this.resolveEnded = resolve));

  constructor(
    private readonly hub: TurnEventHub,
    readonly ref: TurnRef,
    after: number,
    private readonly send: (event: TurnEventRecord) => void,
    private readonly options: FollowOptions = {},
  ) {
    this.last = after;
  }

  /** Watches before it replays, so nothing published in between is missed. */
  start(): Promise<void> {
    this.watch();
    // A failure deciding whether the turn ended ends the stream (the client resumes), never the process.
    void this.catchUp()
      .then(() => !this.finished && this.options.afterReplay?.(this))
      .catch(() => this.stop());
    return this.ended;
  }

  /** Live events only: for a turn that has not begun. */
  watch(): void {
    this.unwatch = this.hub.watch(this);
  }

  deliver(events: readonly TurnEventRecord[]): void {
    if (this.finished) return;
    if (this.catchingUp) {
      this.buffered.push(...events);
      return;
    }
    for (const event of events) {
      if (event.seq <= this.last) {
        this.endIfPastTerminal(event);
        if (this.finished) return;
        continue;
      }
      if (event.seq > this.last + 1) {
        void this.catchUp();
        return;
      }
      this.emit(event);
      if (this.finished) return;
    }
  }

  get finishedSending(): boolean {
    return this.finished;
  }

  /** Ends the stream with an event the log does not hold (a terminal rebuilt from the stored messages). */
  finishWith(event: TurnEventRecord): void {
    if (this.finished) return;
    this.emit(event);
    this.stop();
  }

  /** Reads the log (or the running turn's memory) from `last`; resolves when it is drained. */
  async catchUp(): Promise<void> {
    if (this.catchingUp || this.finished) return;
    this.catchingUp = true;
    try {
      for (;;) {
        const page = await this.hub.eventsAfter(this.ref, this.last);
        for (const event of page) {
          this.endIfPastTerminal(event);
          if (this.finished) return;
          if (event.seq !== this.last + 1) continue;
          this.emit(event);
          if (this.finished) return;
        }
        if (page.length < REPLAY_PAGE_SIZE) break;
      }
    } catch {
      // The log cannot be read (the database failed): end the stream; the client resumes from `last`.
      this.stop();
      return;
    } finally {
      this.catchingUp = false;
    }
    const buffered = this.buffered;
    this.buffered = [];
    if (buffered.length > 0) this.deliver(buffered);
  }

  stop(): void {
    if (this.finished) return;
    this.finished = true;
    this.unwatch();
    this.resolveEnded();
  }

  /** A client that claims an id past the turn's end (a stale or foreign Last-Event-ID) gets no more. */
  private endIfPastTerminal(event: TurnEventRecord): void {
    if (event.seq <= this.last && isTerminal(event)) this.stop();
  }

  private emit(event: TurnEventRecord): void {
    this.send(event);
    this.last = event.seq;
    if (isTerminal(event)) this.stop();
  }
}
