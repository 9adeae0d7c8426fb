import { Logger } from '@nestjs/common';
import { problemOf } from '../../../test/support/app-error';
import { loadConfig } from '../../config/app-config';
import type { IdempotencyKeyRepository, IdempotencyRecord } from './idempotency-key.repository';
import { IdempotencyService } from './idempotency.service';

jest.mock('node:timers/promises', () => jest.requireActual('../../../test/support/fake-timers').timersPromises);

const USER = 'user-1';
const KEY = 'key-1';
const BODY = { content: 'Hello' };
const ANSWER = { conversation_id: 'c1', message: { content: 'Hi!' } };
const BUSY_WAIT_MS = 1000;
const TURN_TIMEOUT_MS = 5000;
const LEASE_TTL_MS = 3000;
const HOUR_MS = 60 * 60 * 1000;

interface StoredKey {
  fingerprint: string;
  state: IdempotencyRecord['state'];
  response: string | null;
  lockedUntil: number | null;
}

type KeyStatements = Pick<IdempotencyKeyRepository, keyof IdempotencyKeyRepository>;

/** The idempotency_keys table as its statements see it, on the (fake) clock. */
class FakeIdempotencyKeys implements KeyStatements {
  readonly rows = new Map<string, StoredKey>();
  readonly claims: { lockMs: number }[] = [];
  purged = 0;
  failPurge = false;

  async claim(userId: string, key: string, fingerprint: string, lockMs: number): Promise<boolean> {
    this.claims.push({ lockMs });
    if (this.rows.has(`${userId}/${key}`)) return false;
    this.rows.set(`${userId}/${key}`, {
      fingerprint,
      state: 'in_flight',
      response: null,
      lockedUntil: Date.now() + lockMs,
    });
    return true;
  }

  async find(userId: string, key: string): Promise<IdempotencyRecord | null> {
    const row = this.rows.get(`${userId}/${key}`);
    if (!row) return null;
    return {
      fingerprint: row.fingerprint,
      state: row.state,
      response: row.response === null ? null : JSON.parse(row.response),
      lockedUntilPassed: row.lockedUntil !== null && row.lockedUntil < Date.now(),
    };
  }

  async takeOver(userId: string, key: string, fingerprint: string, lockMs: number): Promise<boolean> {
    const row = this.rows.get(`${userId}/${key}`);
    const expired = row?.lockedUntil != null && row.lockedUntil < Date.now();
    if (!row || row.fingerprint !== fingerprint || row.state !== 'in_flight' || !expired) return false;
    row.lockedUntil = Date.now() + lockMs;
    return true;
  }

  async complete(userId: string, key: string, response: unknown): Promise<void> {
    const row = this.rows.get(`${userId}/${key}`);
    if (row) Object.assign(row, { state: 'completed', response: JSON.stringify(response), lockedUntil: null });
  }

  async release(userId: string, key: string): Promise<void> {
    if (this.rows.get(`${userId}/${key}`)?.state === 'in_flight') this.rows.delete(`${userId}/${key}`);
  }

  async purgeOlderThan(): Promise<number> {
    if (this.failPurge) throw new Error('connection reset');
    return this.purged;
  }
}

function setUp() {
  const config = loadConfig({
    NODE_ENV: 'test',
    JWT_SECRET: 'x'.repeat(40),
    CHAT_BUSY_WAIT_MS: String(BUSY_WAIT_MS),
    CHAT_TURN_TIMEOUT_MS: String(TURN_TIMEOUT_MS),
    CHAT_LEASE_TTL_MS: String(LEASE_TTL_MS),
    IDEMPOTENCY_TTL_HOURS: '48',
  });
  const keys = new FakeIdempotencyKeys();
  const service = new IdempotencyService(keys as KeyStatements as IdempotencyKeyRepository, config);
  return { service, keys };
}

describe(IdempotencyService.name, () => {
  beforeEach(() => jest.useFakeTimers());

  afterEach(() => {
    jest.clearAllTimers();
    jest.useRealTimers();
  });

  it('lets the first request with a key own it, locked for a whole turn plus a lease', async () => {
    const { service, keys } = setUp();

    await expect(service.begin(USER, KEY, BODY)).resolves.toEqual({ kind: 'owned' });
    expect(keys.claims).toEqual([{ lockMs: TURN_TIMEOUT_MS + LEASE_TTL_MS }]);
  });

  it('replays the stored answer to a repeat of a completed request', async () => {
    const { service } = setUp();
    await service.begin(USER, KEY, BODY);
    await service.complete(USER, KEY, ANSWER);

    await expect(service.begin(USER, KEY, { ...BODY })).resolves.toEqual({ kind: 'replay', response: ANSWER });
  });

  it('keeps keys apart per user', async () => {
    const { service } = setUp();
    await service.begin(USER, KEY, BODY);
    await service.complete(USER, KEY, ANSWER);

    await expect(service.begin('user-2', KEY, BODY)).resolves.toEqual({ kind: 'owned' });
  });

  it('answers 422 idempotency_key_reused when the key comes back with another body', async () => {
    const { service } = setUp();
    await service.begin(USER, KEY, BODY);
    await service.complete(USER, KEY, ANSWER);

    expect(await problemOf(service.begin(USER, KEY, { content: 'Something else' }))).toMatchObject({
      status: 422,
      code: 'idempotency_key_reused',
    });
  });

  it('answers 422 idempotency_key_reused at once while the first request with another body still runs', async () => {
    const { service } = setUp();
    await service.begin(USER, KEY, BODY);

    expect(await problemOf(service.begin(USER, KEY, { content: 'Something else' }))).toMatchObject({ status: 422 });
  });

  it('makes a repeat of a running request wait for its answer, then replays it', async () => {
    const { service } = setUp();
    await service.begin(USER, KEY, BODY);

    const repeat = service.begin(USER, KEY, BODY);
    await jest.advanceTimersByTimeAsync(BUSY_WAIT_MS / 2);
    await service.complete(USER, KEY, ANSWER);
    await jest.advanceTimersByTimeAsync(100);

    await expect(repeat).resolves.toEqual({ kind: 'replay', response: ANSWER });
  });

  it('answers 409 idempotency_key_in_use with Retry-After 2 when the first request runs past CHAT_BUSY_WAIT_MS', async () => {
    const { service } = setUp();
    await service.begin(USER, KEY, BODY);

    let settled = false;
    const outcome = problemOf(service.begin(USER, KEY, BODY)).finally(() => (settled = true));
    await jest.advanceTimersByTimeAsync(BUSY_WAIT_MS - 100);
    expect(settled).toBe(false);
    await jest.advanceTimersByTimeAsync(100);

    expect(await outcome).toEqual({ status: 409, code: 'idempotency_key_in_use', retryAfterSeconds: 2 });
  });

  it('lets a waiting repeat own the key once the failed first request released it', async () => {
    const { service } = setUp();
    await service.begin(USER, KEY, BODY);

    const repeat = service.begin(USER, KEY, BODY);
    await jest.advanceTimersByTimeAsync(100);
    await service.release(USER, KEY);
    await jest.advanceTimersByTimeAsync(100);

    await expect(repeat).resolves.toEqual({ kind: 'owned' });
  });

  it('lets one repeat take over a key whose first request outlived its lock, and the next one wait', async () => {
    const { service } = setUp();
    await service.begin(USER, KEY, BODY);
    await jest.advanceTimersByTimeAsync(TURN_TIMEOUT_MS + LEASE_TTL_MS + 1);

    await expect(service.begin(USER, KEY, BODY)).resolves.toEqual({ kind: 'owned' });
    const next = problemOf(service.begin(USER, KEY, BODY));
    await jest.advanceTimersByTimeAsync(BUSY_WAIT_MS);
    expect(await next).toMatchObject({ code: 'idempotency_key_in_use' });
  });

  it.each([
    ['empty', ''],
    ['with a space', 'has space'],
    ['of 256 characters', 'x'.repeat(256)],
    ['with a non-ASCII character', 'naïve'],
  ])('answers 400 validation_failed for an Idempotency-Key %s, before any statement', async (_case, key) => {
    const { service, keys } = setUp();

    expect(await problemOf(service.begin(USER, key, BODY))).toMatchObject({ status: 400, code: 'validation_failed' });
    expect(keys.claims).toHaveLength(0);
  });

  it('purges expired keys every hour once started, and no longer once destroyed', async () => {
    const { service, keys } = setUp();
    const purge = jest.spyOn(keys, 'purgeOlderThan');
    const log = jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    keys.purged = 3;

    service.onModuleInit();
    await jest.advanceTimersByTimeAsync(HOUR_MS);
    expect(purge).toHaveBeenCalledWith(48);
    expect(log).toHaveBeenCalledWith('purged 3 expired idempotency key(s)');
    service.onModuleDestroy();
    await jest.advanceTimersByTimeAsync(2 * HOUR_MS);

    expect(purge).toHaveBeenCalledTimes(1);
    log.mockRestore();
  });

  it('logs a failed purge instead of throwing, so the next run retries', async () => {
    const { service, keys } = setUp();
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    keys.failPurge = true;

    await expect(service.purge()).resolves.toBeUndefined();

    expect(warn).toHaveBeenCalledWith(expect.objectContaining({ err: expect.any(Error) }), expect.any(String));
    warn.mockRestore();
  });
});
