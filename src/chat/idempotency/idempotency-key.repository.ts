import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

export interface IdempotencyRecord {
  fingerprint: string;
  state: 'in_flight' | 'completed';
  response: unknown;
  lockedUntilPassed: boolean;
}

@Injectable()
export class IdempotencyKeyRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** True when this request created the record and so owns the key. */
  async claim(userId: string, key: string, fingerprint: string, lockMs: number): Promise<boolean> {
    const rows: unknown[] = await this.dataSource.query(
      `INSERT INTO idempotency_keys (user_id, key, fingerprint, locked_until)
       VALUES ($1, $2, $3, now() + make_interval(secs => $4 / 1000.0))
       ON CONFLICT (user_id, key) DO NOTHING RETURNING key`,
      [userId, key, fingerprint, lockMs],
    );
    return rows.length > 0;
  }

  async find(userId: string, key: string): Promise<IdempotencyRecord | null> {
    const rows: { fingerprint: string; state: 'in_flight' | 'completed'; response: string | null; expired: boolean }[] =
      await this.dataSource.query(
        `SELECT fingerprint, state, response, locked_until < now() AS expired
         FROM idempotency_keys WHERE user_id = $1 AND key = $2`,
        [userId, key],
      );
    const row = rows[0];
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
    const [, affected] = (await this.dataSource.query(
      `UPDATE idempotency_keys SET locked_until = now() + make_interval(secs => $4 / 1000.0)
       WHERE user_id = $1 AND key = $2 AND fingerprint = $3 AND state = 'in_flight' AND locked_until < now()`,
      [userId, key, fingerprint, lockMs],
    )) as [unknown[], number];
    return affected > 0;
  }

  async complete(userId: string, key: string, response: unknown): Promise<void> {
    await this.dataSource.query(
      `UPDATE idempotency_keys SET state = 'completed', response = $3, locked_until = NULL
       WHERE user_id = $1 AND key = $2`,
      [userId, key, JSON.stringify(response)],
    );
  }

  async release(userId: string, key: string): Promise<void> {
    await this.dataSource.query(
      `DELETE FROM idempotency_keys WHERE user_id = $1 AND key = $2 AND state = 'in_flight'`,
      [userId, key],
    );
  }

  async purgeOlderThan(hours: number): Promise<number> {
    const [, affected] = (await this.dataSource.query(
      `DELETE FROM idempotency_keys WHERE created_at < now() - make_interval(hours => $1)`,
      [hours],
    )) as [unknown[], number];
    return affected;
  }
}
