import { Client } from 'pg';
import { startChatHarness, type ChatHarness } from './support/chat-harness';
import { newUserId } from './support/test-app';

// Killing server backends needs a PostgreSQL server; the embedded database runs inside the process.
const describeOnPostgres = process.env.DATABASE_URL ? describe : describe.skip;

describeOnPostgres('A chat turn when the database connections are killed mid-turn (pg_terminate_backend)', () => {
  let h: ChatHarness;
  let admin: Client;

  beforeAll(async () => {
    h = await startChatHarness({ env: { CHAT_LEASE_TTL_MS: '2000', CHAT_BUSY_WAIT_MS: '6000' } });
    admin = new Client({ connectionString: process.env.DATABASE_URL });
    await admin.connect();
  });
  afterAll(async () => {
    await admin.end();
    await h.close();
  });

  const killServiceConnections = () =>
    admin.query(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
       WHERE datname = current_database() AND application_name = 'chat-service' AND pid <> pg_backend_pid()`,
    );

  it('answers a clear 5xx problem (or 200 if its writes got through), never a half-written turn, and the next turn works', async () => {
    const userId = newUserId();
    h.sim.enqueue({ kind: 'text', text: 'first' });
    const first = (await h.send({ message: 'before the outage' }, userId)).json();
    h.sim.enqueue({ kind: 'stall', ms: 300, then: { kind: 'text', text: 'during' } });

    const during = h.send({ message: 'during the outage', conversation_id: first.conversation_id }, userId);
    while (h.sim.requests.length < 2) await new Promise((resolve) => setTimeout(resolve, 10));
    // Keep killing the service's backends until the turn answers, so its writes meet dead connections.
    let answeredYet = false;
    let killed = 0;
    const settled = during.finally(() => (answeredYet = true));
    while (!answeredYet) {
      const { rows } = await killServiceConnections();
      killed += rows.filter((row: { pg_terminate_backend: boolean }) => row.pg_terminate_backend).length;
    }
    const response = await settled;
    expect(killed).toBeGreaterThan(0);
    // The outage is over; give the pool a moment to see the sockets the last kills closed.
    await new Promise((resolve) => setTimeout(resolve, 200));

    if (response.statusCode !== 200) {
      expect(response.statusCode).toBeGreaterThanOrEqual(500);
      expect(response.headers['content-type']).toContain('application/problem+json');
      expect(JSON.stringify(response.json())).not.toMatch(/terminating connection|administrator command|SQL/i);
    }
    const rows: { role: string; status: string }[] = await h.t.dataSource.query(
      'SELECT role, status FROM messages WHERE conversation_id = $1 ORDER BY seq',
      [first.conversation_id],
    );
    const answered = response.statusCode === 200;
    expect(rows.slice(2)).toEqual(
      answered
        ? [
            { role: 'user', status: 'completed' },
            { role: 'assistant', status: 'completed' },
          ]
        : [{ role: 'user', status: expect.stringMatching(/^(failed|pending)$/) }],
    );

    h.sim.enqueue({ kind: 'text', text: 'after' });
    const after = await h.send({ message: 'after the outage', conversation_id: first.conversation_id }, userId);
    expect(after.statusCode).toBe(200);
    expect(after.json().response).toBe('after');
  });
});

// The embedded database serves the service through one pooled connection (see data-source-options.ts).
const describeEmbedded = process.env.DATABASE_URL ? describe.skip : describe;

describeEmbedded('A request that waits too long for the embedded database’s single connection', () => {
  let h: ChatHarness;

  beforeAll(async () => {
    h = await startChatHarness();
  });
  afterAll(async () => {
    await h.close();
  });

  it('gets 503 database_unavailable with Retry-After, not 500', async () => {
    const userId = newUserId();
    const holder = h.t.dataSource.createQueryRunner();
    await holder.connect();
    let response;
    try {
      response = await h.t.app.inject({
        method: 'GET',
        url: `/api/${userId}/conversations`,
        headers: h.t.authHeaders(userId),
      });
    } finally {
      await holder.release();
    }
    expect(response.statusCode).toBe(503);
    expect(response.json().code).toBe('database_unavailable');
    expect(Number(response.headers['retry-after'])).toBeGreaterThan(0);
  }, 20_000);
});
