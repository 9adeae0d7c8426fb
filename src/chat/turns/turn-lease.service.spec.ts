import { Logger } from '@nestjs/common';
import { problemOf } from '../../../test/support/app-error';
import { silentMetrics } from '../../../test/support/silent-metrics';
import { loadConfig } from '../../config/app-config';
import type { ConversationRepository, LeaseAttempt } from '../repositories/conversation.repository';
import type { InterruptedTurns } from '../turn-events/interrupted-turns';
import type { TurnCancellation } from './turn-cancellation';
import { TurnLeaseService } from './turn-lease.service';

jest.mock('node:timers/promises', () => jest.requireActual('../../../test/support/fake-timers').timersPromises);

const OWNER = 'user-1';
const LEASE_TTL_MS = 3000;
const HEARTBEAT_MS = LEASE_TTL_MS / 3;
const BUSY_WAIT_MS = 1000;

type LeaseStatements = Pick<
  ConversationRepository,
  'createWithFirstMessage' | 'acquireLeaseAndAppend' | 'renewLease' | 'releaseLease'
>;

interface StoredConversation {
  userId: string;
  lastSeq: number;
  lease?: { owner: string; expiresAt: number };
}

/** The conversations table as the lease statements see it, on the (fake) clock. */
class FakeConversations implements LeaseStatements {
  readonly rows = new Map<string, StoredConversation>();
  readonly renewals: { id: string; owner: string; ttlMs: number }[] = [];
  attempts = 0;
  failRenewals = false;

  add(id: string, userId = OWNER, leaseOwner?: string): void {
    const lease = leaseOwner === undefined ? undefined : { owner: leaseOwner, expiresAt: Date.now() + LEASE_TTL_MS };
    this.rows.set(id, { userId, lastSeq: 2, lease });
  }

  leaseOwnerOf(id: string): string | undefined {
    return this.rows.get(id)?.lease?.owner;
  }

  async createWithFirstMessage(
    ...[userId, , , lease, maxConversations]: Parameters<ConversationRepository['createWithFirstMessage']>
  ): ReturnType<ConversationRepository['createWithFirstMessage']> {
    const owned = [...this.rows.values()].filter((row) => row.userId === userId).length;
    if (owned >= maxConversations) return null;
    const conversationId = `conversation-${this.rows.size + 1}`;
    this.rows.set(conversationId, {
      userId,
      lastSeq: 1,
      lease: { owner: lease.owner, expiresAt: Date.now() + lease.ttlMs },
    });
    return { conversationId, messageId: `${conversationId}-message-1`, seq: 1 };
  }

  async acquireLeaseAndAppend(
    userId: string,
    id: string,
    lease: { owner: string; ttlMs: number },
  ): Promise<LeaseAttempt> {
    this.attempts += 1;
    const row = this.rows.get(id);
    if (!row || row.userId !== userId) return { state: 'not_found' };
    if (row.lease && row.lease.expiresAt > Date.now()) return { state: 'busy' };
    row.lease = { owner: lease.owner, expiresAt: Date.now() + lease.ttlMs };
    row.lastSeq += 1;
    return { state: 'acquired', messageId: `${id}-message-${row.lastSeq}`, seq: row.lastSeq, interrupted: [] };
  }

  async renewLease(id: string, owner: string, ttlMs: number): Promise<{ held: boolean; cancelRequested: boolean }> {
    this.renewals.push({ id, owner, ttlMs });
    if (this.failRenewals) throw new Error('connection reset');
    const row = this.rows.get(id);
    if (row?.lease?.owner !== owner) return { held: false, cancelRequested: false };
    row.lease.expiresAt = Date.now() + ttlMs;
    return { held: true, cancelRequested: false };
  }

  async releaseLease(id: string, owner: string): Promise<void> {
    const row = this.rows.get(id);
    if (row?.lease?.owner === owner) row.lease = undefined;
  }
}

const metrics = silentMetrics<ConstructorParameters<typeof TurnLeaseService>[4]>();
/** No dead replica's turn and no interrupting sender in these tests. */
const interruptedTurns = { seal: async () => undefined } as unknown as InterruptedTurns;
const cancellation = { requestRunning: async () => undefined } as unknown as TurnCancellation;

function setUp(env: Record<string, string> = {}) {
  const config = loadConfig({
    NODE_ENV: 'test',
    JWT_SECRET: 'x'.repeat(40),
    CHAT_LEASE_TTL_MS: String(LEASE_TTL_MS),
    CHAT_BUSY_WAIT_MS: String(BUSY_WAIT_MS),
    ...env,
  });
  const conversations = new FakeConversations();
  const service = new TurnLeaseService(
    conversations as LeaseStatements as ConversationRepository,
    interruptedTurns,
    cancellation,
    config,
    metrics,
  );
  return { service, conversations };
}

describe(TurnLeaseService.name, () => {
  let warn: jest.SpyInstance;

  beforeEach(() => {
    jest.useFakeTimers();
    warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
  });

  afterEach(() => {
    jest.clearAllTimers();
    jest.useRealTimers();
    warn.mockRestore();
  });

  describe('acquire', () => {
    it('takes the lease of a free conversation and stores the message as its next one', async () => {
      const { service, conversations } = setUp();
      conversations.add('c1');

      const { lease, userMessage } = await service.acquire(OWNER, 'c1', 'Hello');

      expect(userMessage).toEqual({ id: 'c1-message-3', seq: 3 });
      expect(lease.conversationId).toBe('c1');
      expect(conversations.leaseOwnerOf('c1')).toBe(lease.owner);
    });

    it('gives every acquired lease an owner of its own', async () => {
      const { service, conversations } = setUp();
      conversations.add('c1');
      conversations.add('c2');

      const first = await service.acquire(OWNER, 'c1', 'Hello');
      const second = await service.acquire(OWNER, 'c2', 'Hello');

      expect(first.lease.owner).not.toBe(second.lease.owner);
    });

    it.each([
      ['that is missing', 'c-missing'],
      ['that belongs to another user', 'c-foreign'],
    ])('answers 404 conversation_not_found at once for a conversation %s', async (_case, id) => {
      const { service, conversations } = setUp();
      conversations.add('c-foreign', 'user-2');

      expect(await problemOf(service.acquire(OWNER, id, 'Hello'))).toEqual({
        status: 404,
        code: 'conversation_not_found',
        retryAfterSeconds: undefined,
      });
      expect(conversations.attempts).toBe(1);
    });

    it('waits while another turn holds the lease and takes it once that turn releases it', async () => {
      const { service, conversations } = setUp();
      conversations.add('c1', OWNER, 'other-turn');

      const acquired = service.acquire(OWNER, 'c1', 'Hello');
      await jest.advanceTimersByTimeAsync(200);
      expect(conversations.leaseOwnerOf('c1')).toBe('other-turn');
      await conversations.releaseLease('c1', 'other-turn');
      await jest.advanceTimersByTimeAsync(250);

      const { lease } = await acquired;
      expect(conversations.leaseOwnerOf('c1')).toBe(lease.owner);
      expect(conversations.attempts).toBeGreaterThan(2);
    });

    it('answers 409 conversation_busy with Retry-After 2 once CHAT_BUSY_WAIT_MS has passed', async () => {
      const { service, conversations } = setUp();
      conversations.add('c1', OWNER, 'other-turn');

      let settled = false;
      const outcome = problemOf(service.acquire(OWNER, 'c1', 'Hello')).finally(() => (settled = true));
      await jest.advanceTimersByTimeAsync(BUSY_WAIT_MS - 1);
      expect(settled).toBe(false);
      await jest.advanceTimersByTimeAsync(1);

      expect(await outcome).toEqual({ status: 409, code: 'conversation_busy', retryAfterSeconds: 2 });
      expect(conversations.leaseOwnerOf('c1')).toBe('other-turn');
    });

    it('answers 409 conversation_busy after one attempt when CHAT_BUSY_WAIT_MS is 0', async () => {
      const { service, conversations } = setUp({ CHAT_BUSY_WAIT_MS: '0' });
      conversations.add('c1', OWNER, 'other-turn');

      expect(await problemOf(service.acquire(OWNER, 'c1', 'Hello'))).toMatchObject({ code: 'conversation_busy' });
      expect(conversations.attempts).toBe(1);
    });
  });

  describe('startConversation', () => {
    it('creates the conversation with its first message and its lease held', async () => {
      const { service, conversations } = setUp();

      const { lease, userMessage } = await service.startConversation(OWNER, 'Title', 'Hello');

      expect(userMessage.seq).toBe(1);
      expect(conversations.leaseOwnerOf(lease.conversationId)).toBe(lease.owner);
    });

    it('answers 409 conversation_limit_reached when the user has CHAT_MAX_CONVERSATIONS_PER_USER already', async () => {
      const { service, conversations } = setUp({ CHAT_MAX_CONVERSATIONS_PER_USER: '1' });
      conversations.add('c1');

      expect(await problemOf(service.startConversation(OWNER, 'Title', 'Hello'))).toMatchObject({
        status: 409,
        code: 'conversation_limit_reached',
      });
    });
  });

  describe('the held lease', () => {
    it('is renewed for CHAT_LEASE_TTL_MS every third of it while the turn runs', async () => {
      const { service, conversations } = setUp();
      conversations.add('c1');
      const { lease } = await service.acquire(OWNER, 'c1', 'Hello');

      await jest.advanceTimersByTimeAsync(HEARTBEAT_MS - 1);
      expect(conversations.renewals).toHaveLength(0);
      await jest.advanceTimersByTimeAsync(1);
      expect(conversations.renewals).toEqual([{ id: 'c1', owner: lease.owner, ttlMs: LEASE_TTL_MS }]);
      await jest.advanceTimersByTimeAsync(2 * HEARTBEAT_MS);
      expect(conversations.renewals).toHaveLength(3);

      await jest.advanceTimersByTimeAsync(5 * LEASE_TTL_MS);
      expect(conversations.leaseOwnerOf('c1')).toBe(lease.owner);
      expect(warn).not.toHaveBeenCalled();
    });

    it('release() frees the conversation for the next turn and stops renewing', async () => {
      const { service, conversations } = setUp();
      conversations.add('c1');
      const { lease } = await service.acquire(OWNER, 'c1', 'Hello');

      await lease.release();
      await jest.advanceTimersByTimeAsync(3 * HEARTBEAT_MS);

      expect(conversations.leaseOwnerOf('c1')).toBeUndefined();
      expect(conversations.renewals).toHaveLength(0);
      await expect(service.acquire(OWNER, 'c1', 'Next')).resolves.toMatchObject({ userMessage: { seq: 4 } });
    });

    it('released() only stops renewing: the statement that stored the turn already freed it', async () => {
      const { service, conversations } = setUp();
      conversations.add('c1');
      const { lease } = await service.acquire(OWNER, 'c1', 'Hello');

      lease.released();
      await jest.advanceTimersByTimeAsync(3 * HEARTBEAT_MS);

      expect(conversations.renewals).toHaveLength(0);
      expect(conversations.leaseOwnerOf('c1')).toBe(lease.owner);
    });

    it('warns when a renewal finds that another turn took the lease over', async () => {
      const { service, conversations } = setUp();
      conversations.add('c1');
      await service.acquire(OWNER, 'c1', 'Hello');
      conversations.rows.get('c1')!.lease = { owner: 'other-turn', expiresAt: Date.now() + LEASE_TTL_MS };

      await jest.advanceTimersByTimeAsync(HEARTBEAT_MS);

      expect(warn).toHaveBeenCalledWith(expect.stringContaining('lost the turn lease of conversation c1'));
      expect(conversations.leaseOwnerOf('c1')).toBe('other-turn');
    });

    it('warns and keeps renewing when a renewal fails', async () => {
      const { service, conversations } = setUp();
      conversations.add('c1');
      await service.acquire(OWNER, 'c1', 'Hello');
      conversations.failRenewals = true;

      await jest.advanceTimersByTimeAsync(2 * HEARTBEAT_MS);

      expect(conversations.renewals).toHaveLength(2);
      expect(warn).toHaveBeenCalledWith(
        expect.objectContaining({ err: expect.any(Error) }),
        'could not renew a turn lease',
      );
    });
  });
});
