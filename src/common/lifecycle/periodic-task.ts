/** A sweep at least every minute, and often enough that a short TTL (tests, demos) is kept to. */
const MAX_SWEEP_INTERVAL_MS = 60_000;
const MIN_SWEEP_INTERVAL_MS = 50;

/** How often to sweep what expires after `ttlMs`: half of it, within 50 ms..1 min. */
export function sweepIntervalFor(ttlMs: number): number {
  return Math.min(MAX_SWEEP_INTERVAL_MS, Math.max(MIN_SWEEP_INTERVAL_MS, Math.floor(ttlMs / 2)));
}

/**
 * Runs `task` every interval, never two at once (a slow run skips the ticks it overlaps), off the event loop's
 * keep-alive. `stop` waits for the run in progress, so it can be called before the database closes.
 */
export class PeriodicTask {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;

  constructor(private readonly task: () => Promise<void>) {}

  start(intervalMs: number): void {
    this.timer = setInterval(() => {
      this.running ??= this.task().finally(() => (this.running = undefined));
    }, intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }
}
