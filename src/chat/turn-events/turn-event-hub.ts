import { Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { AppConfig } from '../../config/app-config';
import { DatabaseNotifications } from '../../database/database-notifications';
import { TURN_EVENTS_CHANNEL, type TurnEventRecord, type TurnRef } from './turn-event';
import { REPLAY_PAGE_SIZE, TurnEventRepository } from './turn-event.repository';

/**
 * With LISTEN, watched turns of other replicas are also read at this interval: a notification lost while the
 * connection was down, or swallowed by an undeclared transaction pooler, delays an event, never loses it.
 */
export const LISTEN_SAFETY_POLL_MS = 2_000;

/** Someone on this replica following a turn: it has everything up to `last`. */
export interface TurnWatcher {
  readonly ref: TurnRef;
  readonly last: number;
  /** Events after some seq, in order; the watcher skips what it has and catches up over a gap. */
  deliver(events: readonly TurnEventRecord[]): void;
}

/** A turn running on this replica: its events so far, including those not yet written to the log. */
export interface LocalTurnEvents {
  /** Undefined when memory does not reach back to `seq` (a resumed turn's earlier events): read the log. */
  after(seq: number): TurnEventRecord[] | undefined;
}

/**
 * Fans a turn's events out to the watchers on this replica. A turn running here delivers each event as it
 * happens, from memory; a turn running elsewhere is read from the log once per notification (or poll), not
 * once per watcher, so the database's work does not grow with viewers.
 */
@Injectable()
export class TurnEventHub implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly watchers = new Map<string, Set<TurnWatcher>>();
  private readonly localTurns = new Map<string, LocalTurnEvents>();
  /** Turns being read from the log; `again` when a notification arrived during the read. */
  private readonly reading = new Map<string, { again: boolean }>();
  private pollTimer?: NodeJS.Timeout;

  constructor(
    private readonly log: TurnEventRepository,
    private readonly notifications: DatabaseNotifications,
    private readonly config: AppConfig,
  ) {
    notifications.on(TURN_EVENTS_CHANNEL, (turnId) => this.changed(turnId));
    notifications.onReconnect(() => this.changedAll());
  }

  onApplicationBootstrap(): void {
    const { mode } = this.notifications;
    if (mode === 'local') return;
    const intervalMs = mode === 'poll' ? this.config.chat.turnEventsPollMs : LISTEN_SAFETY_POLL_MS;
    this.pollTimer = setInterval(() => this.changedAll(), intervalMs);
    this.pollTimer.unref();
  }

  beforeApplicationShutdown(): void {
    clearInterval(this.pollTimer);
  }

  watch(watcher: TurnWatcher): () => void {
    const { turnId } = watcher.ref;
    const set = this.watchers.get(turnId) ?? new Set();
    set.add(watcher);
    this.watchers.set(turnId, set);
    return () => {
      set.delete(watcher);
      if (set.size === 0) this.watchers.delete(turnId);
    };
  }

  openLocal(turnId: string, events: LocalTurnEvents): void {
    this.localTurns.set(turnId, events);
  }

  /** Once every event is in the log: later reads go there. */
  closeLocal(turnId: string): void {
    this.localTurns.delete(turnId);
  }

  publishLocal(turnId: string, event: TurnEventRecord): void {
    for (const watcher of this.watchers.get(turnId) ?? []) watcher.deliver([event]);
  }

  /** From memory for a turn running here, else from the log. */
  async eventsAfter(ref: TurnRef, seq: number): Promise<TurnEventRecord[]> {
    return this.localTurns.get(ref.turnId)?.after(seq) ?? this.log.after(ref, seq);
  }

  /** The turn's log grew (a notification, a poll, or a seal written here). */
  changed(turnId: string): void {
    if (this.localTurns.has(turnId) || !this.watchers.has(turnId)) return;
    const inFlight = this.reading.get(turnId);
    if (inFlight) {
      inFlight.again = true;
      return;
    }
    const state = { again: false };
    this.reading.set(turnId, state);
    void this.readFor(turnId, state);
  }

  private changedAll(): void {
    for (const turnId of this.watchers.keys()) this.changed(turnId);
  }

  /** A change signalled after the last `again` check, while the read was ending, starts another read. */
  private async readFor(turnId: string, state: { again: boolean }): Promise<void> {
    try {
      await this.readWhileChanged(turnId, state);
    } finally {
      this.reading.delete(turnId);
      if (state.again) this.changed(turnId);
    }
  }

  private async readWhileChanged(turnId: string, state: { again: boolean }): Promise<void> {
    do {
      state.again = false;
      const watchers = [...(this.watchers.get(turnId) ?? [])];
      if (watchers.length === 0) return;
      let from = Math.min(...watchers.map((watcher) => watcher.last));
      for (;;) {
        // A failed read is retried by the next notification or poll; each watcher also catches up on its own.
        const events = await this.log.after(watchers[0].ref, from).catch(() => []);
        if (events.length > 0) for (const watcher of watchers) watcher.deliver(events);
        if (events.length < REPLAY_PAGE_SIZE) break;
        from = events[events.length - 1].seq;
      }
    } while (state.again);
  }
}
