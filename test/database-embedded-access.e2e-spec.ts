import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { chmodSync, statSync } from 'node:fs';
import { Client } from 'pg';
import { type EmbeddedPostgres, startEmbeddedPostgres } from '../src/database/embedded-postgres';
import { prepareTestDatabase, type TestDatabase } from './support/test-database';

const embedded = !process.env.DATABASE_URL;
// The embedded database is what these tests are about; a PostgreSQL run has none to open.
const describeEmbedded = embedded ? describe : describe.skip;
// Only root can run a client as another OS user (here `nobody`), the local process the socket must refuse.
const itAsRoot = process.getuid?.() === 0 ? it : it.skip;
const NOBODY_UID = 65534;

/**
 * Connects to `url` as another OS user in a child process; its error code, or 'connected'. Async:
 * the server runs in this process's event loop.
 */
async function connectAsNobody(url: string): Promise<string> {
  const script = `const { Client } = require(${JSON.stringify(require.resolve('pg'))});
    const c = new Client({ connectionString: process.argv[1], connectionTimeoutMillis: 3000 });
    c.connect().then(() => { console.log('connected'); return c.end(); }, (e) => console.log(e.code ?? e.message));`;
  const { stdout } = await promisify(execFile)(process.execPath, ['-e', script, url], {
    uid: NOBODY_UID,
    gid: NOBODY_UID,
    timeout: 10_000,
  });
  return stdout.trim();
}

describeEmbedded('Access to the embedded database', () => {
  let database: TestDatabase;
  let server: EmbeddedPostgres;

  beforeAll(async () => {
    database = prepareTestDatabase();
    // A DATA_DIR others may list (as `mkdir -p /data` makes one): the socket itself must keep them out.
    chmodSync(database.env.DATA_DIR, 0o755);
    server = await startEmbeddedPostgres({ dataDir: database.env.DATA_DIR, poolSize: 1 });
  });
  afterAll(async () => {
    await server?.close();
    await database?.cleanup();
  });

  it('is served on a unix socket inside DATA_DIR that only its owner can open, not on TCP', () => {
    const socketDir = new URL(server.url).searchParams.get('host');
    expect(socketDir?.startsWith(database.env.DATA_DIR)).toBe(true);
    expect(statSync(socketDir!).mode & 0o777).toBe(0o700);
    expect(statSync(`${socketDir}/.s.PGSQL.5432`).mode & 0o777).toBe(0o600);
  });

  it('lets this process connect', async () => {
    const client = new Client({ connectionString: server.url });
    await client.connect();
    try {
      expect((await client.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    } finally {
      await client.end();
    }
  });

  itAsRoot('refuses a client run by another local user', async () => {
    expect(await connectAsNobody(server.url)).toBe('EACCES');
  });
});
