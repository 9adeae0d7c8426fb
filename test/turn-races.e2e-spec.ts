import { startChatHarness, type ChatHarness } from './support/chat-harness';
import type { DataSource } from 'typeorm';
import { insertConversation } from './support/factories';
import { newUserId } from './support/test-app';
import { resolvePooler } from '../src/config/app-config';

const onPostgres = Boolean(process.env.DATABASE_URL);
const throughPooler =
  resolvePooler((process.env.DATABASE_POOLER as 'auto' | undefined) ?? 'auto', process.env.DATABASE_URL) ===
  'pgbouncer';
const CONCURRENT_MESSAGES = 20;

interface StoredMessage {
  seq: number;
  role: 'user' | 'assistant';
  status: string;
  id: string;
}

/** What must hold whatever the interleaving: completed messages alternate, seq has no gaps. */
async function expectConsistentHistory(h: ChatHarness, conversationId: string): Promise<StoredMessage[]> {
  const rows: StoredMessage[] = await h.t.dataSource.query(
    'SELECT id, seq, role, status FROM messages WHERE conversation_id = $1 ORDER BY seq',
    [conversationId],
  );
  expect(rows.map((row) => row.seq)).toEqual(rows.map((_, index) => index + 1));
  const completed = rows.filter((row) => row.status === 'completed');
  expect(completed.map((row) => row.role)).toEqual(
    completed.map((_, index) => (index % 2 === 0 ? 'user' : 'assistant')),
  );
  expect(rows.filter((row) => row.status === 'pending')).toEqual([]);
  return rows;
}

/** A conversation whose turn a replica began and then died in: its lease runs out `ms` from now, its message pending. */
async function insertDeadReplicaTurn(dataSource: DataSource, userId: string, ms: number): Promise<{ id: string }> {
  const conversation = await insertConversation(dataSource, {
    userId,
    messageCount: 1,
    leaseOwner: 'replica-that-died',
    leaseExpiresAt: new Date(Date.now() + ms),
  });
  await dataSource.query(
    `INSERT INTO messages (conversation_id, user_id, seq, role, content, status) VALUES ($1, $2, 1, 'user', 'lost?', 'pending')`,
    [conversation.id, userId],
  );
  return conversation;
}

describe(`One turn at a time per conversation (${onPostgres ? 'two replicas on PostgreSQL' : 'embedded, one replica'})`, () => {
  let replicas: ChatHarness[];
  const env = { CHAT_BUSY_WAIT_MS: '1500', CHAT_LEASE_TTL_MS: '3000' };

  beforeAll(async () => {
    // Two replicas need a database both can reach; the embedded one belongs to a single process.
    replicas = [await startChatHarness({ env })];
    if (onPostgres) replicas.push(await startChatHarness({ env }));
    for (const replica of replicas) {
      replica.sim.respondWith(() => ({ kind: 'stall', ms: 30, then: { kind: 'text', text: 'answer' } }));
    }
  });
  afterAll(async () => {
    for (const replica of replicas) await replica.close();
  });

  it(`answers ${CONCURRENT_MESSAGES} concurrent messages to one conversation with 200 or 409, never interleaving`, async () => {
    const userId = newUserId();
    const [first] = replicas;
    const conversationId = (await first.send({ message: 'start' }, userId)).json().conversation_id as string;

    const responses = await Promise.all(
      Array.from({ length: CONCURRENT_MESSAGES }, (_, i) =>
        replicas[i % replicas.length].send({ message: `message ${i}`, conversation_id: conversationId }, userId),
      ),
    );

    const statuses = responses.map((response) => response.statusCode);
    expect(statuses.every((status) => status === 200 || status === 409)).toBe(true);
    expect(statuses.filter((status) => status === 200).length).toBeGreaterThan(1);
    for (const busy of responses.filter((response) => response.statusCode === 409)) {
      expect(busy.json().code).toBe('conversation_busy');
      expect(busy.headers['retry-after']).toBeDefined();
    }
    const rows = await expectConsistentHistory(first, conversationId);
    // Every answered message is stored exactly once; a refused one left nothing behind.
    const stored = new Set(rows.map((row) => row.id));
    const answered = responses.filter((response) => response.statusCode === 200).map((response) => response.json());
    for (const turn of answered) {
      expect(stored.has(turn.user_message_id)).toBe(true);
      expect(stored.has(turn.message_id)).toBe(true);
    }
    expect(rows).toHaveLength(2 + answered.length * 2);
  });

  it('takes over a lease left by a dead replica once it expires, marking that turn turn_interrupted', async () => {
    const userId = newUserId();
    const [replica] = replicas;
    const conversation = await insertDeadReplicaTurn(replica.t.dataSource, userId, 700);

    const response = await replica.send({ message: 'anyone there?', conversation_id: conversation.id }, userId);

    expect(response.statusCode).toBe(200);
    const rows: { status: string; error_code: string | null }[] = await replica.t.dataSource.query(
      'SELECT status, error_code FROM messages WHERE conversation_id = $1 ORDER BY seq',
      [conversation.id],
    );
    expect(rows).toEqual([
      { status: 'failed', error_code: 'turn_interrupted' },
      { status: 'completed', error_code: null },
      { status: 'completed', error_code: null },
    ]);
  });

  it('marks the pending message of a dead replica’s turn turn_interrupted once its lease expires, with no new message', async () => {
    const userId = newUserId();
    const [replica] = replicas;
    const conversation = await insertDeadReplicaTurn(replica.t.dataSource, userId, 300);

    const deadline = Date.now() + 3 * Number(env.CHAT_LEASE_TTL_MS);
    let rows: { status: string; error_code: string | null }[] = [];
    while (Date.now() < deadline) {
      rows = await replica.t.dataSource.query('SELECT status, error_code FROM messages WHERE conversation_id = $1', [
        conversation.id,
      ]);
      if (rows[0]?.status !== 'pending') break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(rows).toEqual([{ status: 'failed', error_code: 'turn_interrupted' }]);
    const [lease] = await replica.t.dataSource.query('SELECT lease_owner FROM conversations WHERE id = $1', [
      conversation.id,
    ]);
    expect(lease.lease_owner).toBeNull();
  });

  it('answers 409 conversation_busy with Retry-After when the lease stays taken past the wait, storing nothing', async () => {
    const userId = newUserId();
    const [replica] = replicas;
    const conversation = await insertConversation(replica.t.dataSource, {
      userId,
      leaseOwner: 'a-long-turn',
      leaseExpiresAt: new Date(Date.now() + 60_000),
    });
    const response = await replica.send({ message: 'me too', conversation_id: conversation.id }, userId);
    expect(response.statusCode).toBe(409);
    expect(response.json().code).toBe('conversation_busy');
    expect(Number(response.headers['retry-after'])).toBeGreaterThan(0);
    const [{ count }] = await replica.t.dataSource.query(
      'SELECT count(*)::int AS count FROM messages WHERE conversation_id = $1',
      [conversation.id],
    );
    expect(count).toBe(0);
  });

  it('stores nothing of a turn whose lease another turn took over while it ran, and says so', async () => {
    const userId = newUserId();
    const [replica] = replicas;
    replica.sim.enqueue({ kind: 'stall', ms: 300, then: { kind: 'text', text: 'too late' } });
    const pending = replica.send({ message: 'slow turn' }, userId);
    let conversationId: string | undefined;
    while (!conversationId) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      const rows: { id: string }[] = await replica.t.dataSource.query(
        'SELECT id FROM conversations WHERE user_id = $1',
        [userId],
      );
      conversationId = rows[0]?.id;
    }
    await replica.t.dataSource.query(`UPDATE conversations SET lease_owner = 'another-turn' WHERE id = $1`, [
      conversationId,
    ]);

    const response = await pending;

    expect(response.statusCode).toBe(500);
    expect(response.json().code).toBe('turn_interrupted');
    const rows: { role: string; status: string }[] = await replica.t.dataSource.query(
      'SELECT role, status FROM messages WHERE conversation_id = $1 ORDER BY seq',
      [conversationId],
    );
    expect(rows).toEqual([{ role: 'user', status: 'failed' }]);
  });
});

// Only a transaction-mode pooler hands one client's statements to several server sessions; CI's PgBouncer pass runs these.
const describeThroughPooler = throughPooler ? describe : describe.skip;

describeThroughPooler('Concurrent turns through a transaction-mode pooler (PgBouncer)', () => {
  const MESSAGES = 10;

  it.each([
    ['detected or declared (unnamed statements)', {}],
    ['declared absent (named statements, until the first one fails)', { DATABASE_POOLER: 'none' }],
  ])(
    `answers ${MESSAGES} concurrent messages to one conversation with no 500 and alternating history: pooler %s`,
    async (_, poolerEnv: Record<string, string>) => {
      const h = await startChatHarness({ env: { CHAT_BUSY_WAIT_MS: '5000', CHAT_LEASE_TTL_MS: '3000', ...poolerEnv } });
      try {
        h.sim.respondWith(() => ({ kind: 'stall', ms: 20, then: { kind: 'text', text: 'answer' } }));
        const userId = newUserId();
        const conversationId = (await h.send({ message: 'start' }, userId)).json().conversation_id as string;

        const responses = await Promise.all(
          Array.from({ length: MESSAGES }, (_, i) =>
            h.send({ message: `message ${i}`, conversation_id: conversationId }, userId),
          ),
        );

        const statuses = responses.map((response) => response.statusCode);
        expect(statuses.filter((status) => status !== 200 && status !== 409)).toEqual([]);
        const rows = await expectConsistentHistory(h, conversationId);
        expect(rows).toHaveLength(2 + statuses.filter((status) => status === 200).length * 2);
      } finally {
        await h.close();
      }
    },
  );
});
