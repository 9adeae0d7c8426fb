import { setTimeout as sleep } from 'node:timers/promises';
import { AnthropicSimulator } from './support/anthropic-simulator';
import { startChatHarness } from './support/chat-harness';
import { killServerProcesses, startServerProcess } from './support/server-process';
import { prepareTestDatabase, type TestDatabase } from './support/test-database';
import { newUserId, TEST_JWT_SECRET } from './support/test-app';
import jwt from 'jsonwebtoken';

interface TurnBody {
  conversation_id: string;
  response: string;
  code?: string;
}

const tokenFor = (sub: string) => jwt.sign({ sub }, TEST_JWT_SECRET, { algorithm: 'HS256', expiresIn: '10m' });

async function until(condition: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(20);
  }
}

describe('A replica as its own process', () => {
  let sim: AnthropicSimulator;
  let database: TestDatabase;

  beforeEach(async () => {
    sim = await AnthropicSimulator.start();
    database = prepareTestDatabase();
  });
  afterEach(async () => {
    killServerProcesses();
    await sim.close();
    await database.cleanup();
  });

  const serverEnv = (extra: Record<string, string> = {}) => ({
    NODE_ENV: 'test',
    JWT_SECRET: TEST_JWT_SECRET,
    ANTHROPIC_API_KEY: 'test-key',
    ANTHROPIC_BASE_URL: sim.url,
    ...database.env,
    ...extra,
  });

  const chat = (url: string, userId: string, body: Record<string, unknown>) =>
    fetch(`${url}/api/${userId}/chat`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tokenFor(userId)}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  it('on SIGTERM refuses new turns, lets the running one finish and store, logs each step, then exits 0', async () => {
    const server = await startServerProcess(serverEnv({ SHUTDOWN_GRACE_MS: '10000' }));
    const userId = newUserId();
    sim.enqueue({ kind: 'stall', ms: 1200, then: { kind: 'text', text: 'Finished during shutdown.' } });
    const running = chat(server.url, userId, { message: 'slow question' });
    await until(() => sim.requests.length === 1);

    server.kill('SIGTERM');
    await until(() => server.logs.some((line) => String(line.msg).includes('running turn')));
    const refused = await chat(server.url, newUserId(), { message: 'too late' });
    const answered = await running;

    expect(refused.status).toBe(503);
    expect(((await refused.json()) as TurnBody).code).toBe('service_shutting_down');
    expect(answered.status).toBe(200);
    expect(((await answered.json()) as TurnBody).response).toBe('Finished during shutdown.');
    expect(await server.exited).toBe(0);
    const messages = server.logs.map((line) => String(line.msg));
    const stopping = messages.findIndex((msg) => msg.startsWith('SIGTERM: stopping'));
    const waiting = messages.findIndex((msg) => msg.includes('for 1 running turn(s)'));
    const drained = messages.findIndex((msg) => msg === 'all 1 running turn(s) finished');
    const stopped = messages.findIndex((msg) => msg.startsWith('stopped') && msg.includes('exiting with 0'));
    expect([stopping, waiting, drained, stopped].every((index) => index >= 0)).toBe(true);
    expect(stopping < waiting && waiting < drained && drained < stopped).toBe(true);
    expect(messages.some((msg) => msg.includes('aborting'))).toBe(false);
  });

  it('warns at a production boot that has no ANTHROPIC_API_KEY', async () => {
    const { ANTHROPIC_API_KEY: _unset, ...env } = serverEnv({ NODE_ENV: 'production' });
    const server = await startServerProcess(env);

    const warning = server.logs.find((line) => String(line.msg).startsWith('ANTHROPIC_API_KEY is not set'));
    expect(warning).toMatchObject({ level: 40 });
  });

  it('when a replica dies mid-turn, the next message waits out its lease and the lost turn is marked interrupted', async () => {
    const server = await startServerProcess(serverEnv({ CHAT_LEASE_TTL_MS: '1500' }));
    const userId = newUserId();
    sim.enqueue({ kind: 'text', text: 'First answer.' });
    const first = (await (await chat(server.url, userId, { message: 'first' })).json()) as TurnBody;
    sim.enqueue({ kind: 'stall', ms: 30_000 });
    const doomed = chat(server.url, userId, { message: 'lost in the crash', conversation_id: first.conversation_id });
    await until(() => sim.requests.length === 2);

    server.kill('SIGKILL');
    await doomed.catch(() => undefined);
    expect(await server.exited).toBe('SIGKILL');

    const survivor = await startChatHarness({
      env: { ...database.env, CHAT_LEASE_TTL_MS: '1500', CHAT_BUSY_WAIT_MS: '5000' },
    });
    try {
      survivor.sim.enqueue({ kind: 'text', text: 'Still here.' });
      const next = await survivor.send({ message: 'after the crash', conversation_id: first.conversation_id }, userId);
      expect(next.statusCode).toBe(200);
      const rows: { content: string; status: string; error_code: string | null }[] = await survivor.t.dataSource.query(
        'SELECT content, status, error_code FROM messages WHERE conversation_id = $1 ORDER BY seq',
        [first.conversation_id],
      );
      expect(rows).toEqual([
        { content: 'first', status: 'completed', error_code: null },
        { content: 'First answer.', status: 'completed', error_code: null },
        { content: 'lost in the crash', status: 'failed', error_code: 'turn_interrupted' },
        { content: 'after the crash', status: 'completed', error_code: null },
        { content: 'Still here.', status: 'completed', error_code: null },
      ]);
    } finally {
      await survivor.close();
    }
  });
});
