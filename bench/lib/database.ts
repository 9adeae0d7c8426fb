import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Pool } from 'pg';
import { onCleanup } from './cleanup';

export type DbKind = 'embedded' | 'postgres';

/** A fresh database for one scenario: how to point the service at it, and how to reach it with SQL. */
export interface BenchDatabase {
  kind: DbKind;
  /** Environment for the service: DATABASE_URL, or DATA_DIR for the embedded database. */
  serviceEnv: Record<string, string>;
  /** A postgres:// URL for seeding and for the baseline; for the embedded database, known once the service runs. */
  sqlUrl?: string;
  /** Human-readable: the database name or the data folder. */
  label: string;
}

const SEED_STATEMENT_TIMEOUT_MS = 300_000;

/**
 * PostgreSQL: a database named `bench_<pid>_<time>` on the server of `adminUrl`, dropped at cleanup.
 * Embedded: a fresh temporary DATA_DIR, deleted at cleanup.
 */
export async function createBenchDatabase(kind: DbKind, adminUrl: string, tag: string): Promise<BenchDatabase> {
  if (kind === 'embedded') {
    const dir = mkdtempSync(join(tmpdir(), `chat-bench-${tag}-`));
    onCleanup(`temp dir ${dir}`, () => rmSync(dir, { recursive: true, force: true }));
    return { kind, serviceEnv: { DATA_DIR: dir }, label: dir };
  }
  const name = `bench_${tag}_${process.pid}_${Date.now().toString(36)}`.toLowerCase().replace(/[^a-z0-9_]/g, '_');
  await adminQuery(adminUrl, `CREATE DATABASE "${name}"`);
  onCleanup(`database ${name}`, () => adminQuery(adminUrl, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return { kind, serviceEnv: { DATABASE_URL: url.toString() }, sqlUrl: url.toString(), label: name };
}

async function adminQuery(adminUrl: string, sql: string): Promise<void> {
  const client = new Client({ connectionString: adminUrl, connectionTimeoutMillis: 5_000 });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

export async function serverVersion(url: string): Promise<string> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  await client.connect();
  try {
    const { rows } = await client.query<{ server_version: string }>('SHOW server_version');
    return rows[0].server_version;
  } finally {
    await client.end();
  }
}

/** A small pool for seeding; long statements are allowed but bounded. */
export function seedPool(url: string, max = 2): Pool {
  const pool = new Pool({
    connectionString: url,
    max,
    connectionTimeoutMillis: 10_000,
    statement_timeout: SEED_STATEMENT_TIMEOUT_MS,
  });
  onCleanup('seed pool', () => pool.end());
  return pool;
}
