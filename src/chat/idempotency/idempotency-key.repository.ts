import { Injectable } from '@nestjs/common';
import { PreparedStatements } from '../../database/prepared-statements';
import {
  CLAIM_KEY,
  COMPLETE_KEY,
  FIND_KEY,
  PURGE_KEYS_OLDER_THAN,
  RELEASE_KEY,
  TAKE_OVER_KEY,
} from './idempotency-key.statements';

export interface IdempotencyRecord {
  fingerprint: string;
  state: 'in_flight' | 'completed';
  response: unknown;
  lockedUntilPassed: boolean;
}

@Injectable()
export class IdempotencyKeyRepository {
  constructor(private readonly statements: PreparedStatements) {}

  /** True when this request created the record and so owns the key. */
  async claim(userId: string, key: string, fingerprint: string, lockMs: number): Promise<boolean> {
    const rows = await this.statements.rows(CLAIM_KEY, [userId, key, fingerprint, lockMs]);
    return rows.length > 0;
  }

  async find(userId: string, key: string): Promise<IdempotencyRecord | null> {
    const [row] = await this.statements.rows(FIND_KEY, [userId, key]);
    if (!row) return null;
    const { fingerprint, state, response, expired } = row;
    return {
      fingerprint,
      state,
      response: response === null ? null : JSON.parse(response),
      lockedUntilPassed: expired,
    };
  }

  /** A request whose first attempt died takes the key over, once, atomically. */
  async takeOver(userId: string, key: string, fingerprint: string, lockMs: number): Promise<boolean> {
    return (await this.statements.rowCount(TAKE_OVER_KEY, [userId, key, fingerprint, lockMs])) > 0;
  }

  async complete(userId: string, key: string, response: unknown): Promise<void> {
    await this.statements.rowCount(COMPLETE_KEY, [userId, key, JSON.stringify(response)]);
  }

  async release(userId: string, key: string): Promise<void> {
    await this.statements.rowCount(RELEASE_KEY, [userId, key]);
  }

  purgeOlderThan(hours: number): Promise<number> {
    return this.statements.rowCount(PURGE_KEYS_OLDER_THAN, [hours]);
  }
}
