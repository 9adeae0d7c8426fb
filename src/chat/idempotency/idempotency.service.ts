import { Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { AppConfig } from '../../config/app-config';
import { idempotencyKeyInUse, idempotencyKeyReused, invalidIdempotencyKey } from '../chat.errors';
import { IdempotencyKeyRepository } from './idempotency-key.repository';

export type IdempotencyClaim = { kind: 'owned' } | { kind: 'replay'; response: unknown };

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;
const POLL_MS = 50;
const PURGE_EVERY_MS = 60 * 60 * 1000;

/** Idempotency-Key for chat turns, after Stripe and the IETF draft; a failed turn releases its key. */
@Injectable()
export class IdempotencyService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(IdempotencyService.name);
  private purgeTimer?: NodeJS.Timeout;

  constructor(
    private readonly keys: IdempotencyKeyRepository,
    private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    this.purgeTimer = setInterval(() => void this.purge(), PURGE_EVERY_MS);
    this.purgeTimer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.purgeTimer);
  }

  async begin(userId: string, key: string, request: unknown): Promise<IdempotencyClaim> {
    if (!IDEMPOTENCY_KEY.test(key)) throw invalidIdempotencyKey();
    const fingerprint = fingerprintOf(request);
    // The first request may run a whole turn; past that it is presumed dead and a repeat takes over.
    const lockMs = this.config.agent.turnTimeoutMs + this.config.chat.leaseTtlMs;
    const deadline = Date.now() + this.config.chat.busyWaitMs;
    for (;;) {
      if (await this.keys.claim(userId, key, fingerprint, lockMs)) return { kind: 'owned' };
      const record = await this.keys.find(userId, key);
      if (record) {
        if (record.fingerprint !== fingerprint) throw idempotencyKeyReused();
        if (record.state === 'completed') return { kind: 'replay', response: record.response };
        if (record.lockedUntilPassed && (await this.keys.takeOver(userId, key, fingerprint, lockMs))) {
          return { kind: 'owned' };
        }
        if (Date.now() >= deadline) throw idempotencyKeyInUse();
        await sleep(POLL_MS);
      }
    }
  }

  complete(userId: string, key: string, response: unknown): Promise<void> {
    return this.keys.complete(userId, key, response);
  }

  release(userId: string, key: string): Promise<void> {
    return this.keys.release(userId, key);
  }

  async purge(): Promise<void> {
    try {
      const purged = await this.keys.purgeOlderThan(this.config.chat.idempotencyTtlHours);
      if (purged > 0) this.logger.log(`purged ${purged} expired idempotency key(s)`);
    } catch (error) {
      this.logger.warn({ err: error }, 'idempotency key purge failed; the next run retries');
    }
  }
}

function fingerprintOf(request: unknown): string {
  return createHash('sha256').update(JSON.stringify(request)).digest('hex');
}
