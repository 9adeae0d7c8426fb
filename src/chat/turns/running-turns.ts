import { Injectable, Logger, type BeforeApplicationShutdown } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { LifecycleState } from '../../common/lifecycle/lifecycle.module';
import { AppConfig } from '../../config/app-config';
import { serviceShuttingDown, turnCutByShutdown } from '../chat.errors';

/** On shutdown, turns still running after the grace period are aborted, so they are stored as failed. */
@Injectable()
export class RunningTurns implements BeforeApplicationShutdown {
  private readonly logger = new Logger(RunningTurns.name);
  private readonly running = new Map<Promise<unknown>, AbortController>();
  constructor(
    private readonly config: AppConfig,
    private readonly lifecycle: LifecycleState,
  ) {}

  assertAccepting(): void {
    if (this.lifecycle.draining) throw serviceShuttingDown();
  }

  /** Runs `work` with a signal that fires on the turn timeout or when the shutdown grace runs out. */
  track<T>(work: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const controller = new AbortController();
    const signal = AbortSignal.any([controller.signal, AbortSignal.timeout(this.config.agent.turnTimeoutMs)]);
    const promise = work(signal).finally(() => this.running.delete(promise));
    this.running.set(promise, controller);
    return promise;
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.lifecycle.draining = true;
    if (this.running.size === 0) return;
    const count = this.running.size;
    this.logger.log(`waiting up to ${this.config.shutdownGraceMs} ms for ${count} running turn(s)`);
    const settled = Promise.allSettled([...this.running.keys()]);
    const timedOut = await Promise.race([settled.then(() => false), sleep(this.config.shutdownGraceMs, true)]);
    if (!timedOut) {
      this.logger.log(`all ${count} running turn(s) finished`);
      return;
    }
    this.logger.warn(`aborting ${this.running.size} turn(s) still running after the grace period`);
    const reason = turnCutByShutdown();
    for (const controller of this.running.values()) controller.abort(reason);
    await settled;
  }
}
