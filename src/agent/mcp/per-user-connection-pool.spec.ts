import { PerUserConnectionPool } from './per-user-connection-pool';

class FakeConnection {
  closed = false;
  constructor(readonly userId: string) {}
  async close(): Promise<void> {
    this.closed = true;
  }
}

function poolOf(options: { maxSize?: number; idleMs?: number } = {}) {
  let now = 0;
  const created: FakeConnection[] = [];
  const pool = new PerUserConnectionPool(
    (userId) => {
      const connection = new FakeConnection(userId);
      created.push(connection);
      return connection;
    },
    { ...options, now: () => now },
  );
  const use = (userId: string) => pool.use(userId, async (connection) => connection);
  return { pool, created, use, advance: (ms: number) => (now += ms) };
}

describe(PerUserConnectionPool.name, () => {
  it("creates a user's connection on their first call and reuses it after", async () => {
    const { pool, created, use } = poolOf();

    const first = await use('alice');
    const again = await use('alice');
    const bobs = await use('bob');

    expect(again).toBe(first);
    expect(bobs).not.toBe(first);
    expect(created.map((connection) => connection.userId)).toEqual(['alice', 'bob']);
    expect(pool.connections()).toHaveLength(2);
    await pool.closeAll();
  });

  it('closes the least recently used connection when a new user goes over the bound', async () => {
    const { pool, use } = poolOf({ maxSize: 2 });
    const alice = await use('alice');
    const bob = await use('bob');
    await use('alice'); // bob is now the least recently used

    await use('carol');

    expect(bob.closed).toBe(true);
    expect(alice.closed).toBe(false);
    expect(pool.connections().map((connection) => connection.userId)).toEqual(['alice', 'carol']);
    await pool.closeAll();
  });

  it('never evicts a connection while a call runs on it, going over the bound for a while instead', async () => {
    const { pool, use } = poolOf({ maxSize: 1 });
    let finish!: () => void;
    const running = pool.use('alice', async (connection) => {
      await new Promise<void>((resolve) => (finish = resolve));
      return connection;
    });

    const bob = await use('bob');
    finish();
    const alice = await running;

    expect(alice.closed).toBe(false);
    expect(bob.closed).toBe(false);
    expect(pool.connections()).toHaveLength(2);
    await use('carol');
    expect(pool.connections().map((connection) => connection.userId)).toEqual(['carol']);
    await pool.closeAll();
  });

  it('closes the connections idle for the idle time, and only those', async () => {
    const { pool, use, advance } = poolOf({ idleMs: 1000 });
    const alice = await use('alice');
    advance(600);
    const bob = await use('bob');
    advance(400);

    pool.sweep();

    expect(alice.closed).toBe(true);
    expect(bob.closed).toBe(false);
    expect(pool.connections()).toEqual([bob]);
    await pool.closeAll();
  });

  it('counts idle time from the end of the last call, not its start', async () => {
    const { pool, advance } = poolOf({ idleMs: 1000 });
    const alice = await pool.use('alice', async (connection) => {
      advance(5000);
      return connection;
    });

    pool.sweep();

    expect(alice.closed).toBe(false);
    await pool.closeAll();
  });

  it('closes every connection on shutdown and refuses new ones after', async () => {
    const { pool, use } = poolOf();
    const alice = await use('alice');
    const bob = await use('bob');

    await pool.closeAll();

    expect([alice.closed, bob.closed]).toEqual([true, true]);
    await expect(use('carol')).rejects.toThrow('the connection pool is closed');
  });
});
