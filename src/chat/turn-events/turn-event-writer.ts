import type { Logger } from '@nestjs/common';
import { isTerminal, type TurnEventRecord, type TurnEventType, type TurnRef } from './turn-event';
import type { LocalTurnEvents, TurnEventHub } from './turn-event-hub';
import type { TurnEventRepository } from './turn-event.repository';

const FINAL_WRITE_ATTEMPTS = 3;
const RETRY_MS = 200;
/** At most one write per this interval per turn: a live viewer on another replica waits at most this long. */
const WRITE_INTERVAL_MS = 10;

/**
 * The events of one running turn: numbered 1, 2, 3… (or from after `start`, the last event of the pause a
 * resumed turn goes on from), delivered to this replica's watchers at once, and
 * written to the log in batches with at most one write in flight, so a burst costs one statement. Text
 * deltas closer together than `coalesceMs` are merged into one event (the first of a burst goes at once).
 */
export class TurnEventWriter implements LocalTurnEvents {
  private readonly events: TurnEventRecord[] = [];
  private written = 0;
  private writing?: Promise<void>;
  private pendingText?: string;
  private pendingTimer?: NodeJS.Timeout;
  private lastTextAt = -Infinity;
  private writeTimer?: NodeJS.Timeout;
  private nextWriteAt = performance.now() + WRITE_INTERVAL_MS;
  private failed = false;

  constructor(
    private readonly ref: TurnRef,
    private readonly hub: TurnEventHub,
    private readonly log: TurnEventRepository,
    private readonly coalesceMs: number,
    private readonly logger: Logger,
    private readonly start = 0,
  ) {
    hub.openLocal(ref.turnId, this);
  }

  /** Undefined before `start`: those events (a paused turn's) are in the log only. */
  after(seq: number): TurnEventRecord[] | undefined {
    if (seq < this.start) return undefined;
    return this.events.slice(seq - this.start);
  }

  text(text: string): void {
    if (this.pendingText !== undefined) {
      this.pendingText += text;
      return;
    }
    const sinceLast = performance.now() - this.lastTextAt;
    if (sinceLast >= this.coalesceMs) {
      this.emitText(text);
      return;
    }
    this.pendingText = text;
    this.pendingTimer = setTimeout(() => this.flushText(), this.coalesceMs - sinceLast);
  }

  publish(type: Exclude<TurnEventType, 'text.delta'>, data: unknown): void {
    this.flushText();
    this.emit(type, data);
  }

  /** The terminal event, then every event in the log; a log that cannot be written is logged, not thrown. */
  async finish(type: 'turn.completed' | 'turn.failed', data: unknown): Promise<void> {
    this.publish(type, data);
    for (let failures = 0; ;) {
      await this.writing;
      if (this.written === this.events.length) break;
      if (this.writing) continue;
      if (++failures === FINAL_WRITE_ATTEMPTS) {
        this.logger.error(
          `could not write the last ${this.events.length - this.written} event(s) of turn ${this.ref.turnId}`,
        );
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
      this.failed = false;
      this.scheduleWrite();
    }
    this.hub.closeLocal(this.ref.turnId);
  }

  private flushText(): void {
    clearTimeout(this.pendingTimer);
    if (this.pendingText === undefined) return;
    const text = this.pendingText;
    this.pendingText = undefined;
    this.emitText(text);
  }

  private emitText(text: string): void {
    this.lastTextAt = performance.now();
    this.emit('text.delta', { text });
  }

  private emit(type: TurnEventType, data: unknown): void {
    const event: TurnEventRecord = { seq: this.start + this.events.length + 1, type, data };
    this.events.push(event);
    this.hub.publishLocal(this.ref.turnId, event);
    this.scheduleWrite();
  }

  /** The terminal event is written at once; others wait for the write interval, so a burst is one statement. */
  private scheduleWrite(): void {
    if (this.writing) return;
    const urgent = this.events.slice(this.written).some(isTerminal);
    if (this.writeTimer && !urgent) return;
    clearTimeout(this.writeTimer);
    this.writeTimer = undefined;
    const waitMs = urgent ? 0 : this.nextWriteAt - performance.now();
    if (waitMs > 0) {
      this.writeTimer = setTimeout(() => {
        this.writeTimer = undefined;
        this.scheduleWrite();
      }, waitMs);
      return;
    }
    this.writing = this.writeBatch().finally(() => {
      this.writing = undefined;
      if (this.written < this.events.length && !this.failed) this.scheduleWrite();
    });
  }

  private async writeBatch(): Promise<void> {
    const batch = this.events.slice(this.written);
    this.nextWriteAt = performance.now() + WRITE_INTERVAL_MS;
    try {
      await this.log.append(this.ref, batch);
      this.written += batch.length;
      this.failed = false;
    } catch (error) {
      // The live streams are unaffected; the next event (or finish) tries these again.
      this.failed = true;
      this.logger.warn({ err: error }, `could not write ${batch.length} event(s) of turn ${this.ref.turnId}`);
    }
  }
}
