import { randomBytes } from 'node:crypto';
import { Client } from 'pg';

export interface IsolatedDatabase {
  /** Environment for the app (empty on the embedded database, which is already one per test file). */
  env: Record<string, string>;
  drop(): Promise<void>;
}

/**
 * A PostgreSQL database of its own, beside the shared test database, for an app whose background work
 * touches every row: a short CHAT_TURN_EVENTS_TTL sweeps every turn's log, and would delete the logs of the
 * test files running at the same time on the shared one. The app migrates it on boot.
 */
export async function isolatedDatabase(): Promise<IsolatedDatabase> {
  const shared = process.env.DATABASE_URL;
  if (!shared) return { env: {}, drop: async () => undefined };
  const direct = process.env.DATABASE_DIRECT_URL;
  const name = `${databaseName(shared)}_${randomBytes(4).toString('hex')}`.slice(-63);
  const admin = async (sql: string) => {
    const client = new Client({ connectionString: direct ?? shared });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  await admin(`CREATE DATABASE "${name}"`);
  const env: Record<string, string> = { DATABASE_URL: withDatabase(shared, name), DB_MIGRATE_ON_BOOT: 'true' };
  if (direct) env.DATABASE_DIRECT_URL = withDatabase(direct, name);
  return { env, drop: () => admin(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`) };
}

function databaseName(url: string): string {
  return decodeURIComponent(new URL(url).pathname.slice(1));
}

function withDatabase(url: string, name: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${encodeURIComponent(name)}`;
  return parsed.toString();
}
