import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Prefix of the per-test data folders, so a run can sweep the ones a crashed worker left behind. */
export const TEST_DATA_DIR_PREFIX = 'chat-service-test-data-';

export interface TestDatabase {
  /** Environment for `loadConfig`: DATA_DIR of a fresh embedded database, or the shared DATABASE_URL. */
  env: Record<string, string>;
  cleanup(): Promise<void>;
}

/**
 * A migrated database for one test file. Embedded: a copy of the template the global setup migrated
 * (opening a copy takes ≈ 0.6 s, a fresh initdb ≈ 5 s). PostgreSQL: the shared test database, where
 * tests stay apart by using fresh user ids.
 */
export function prepareTestDatabase(): TestDatabase {
  const databaseUrl = process.env.DATABASE_URL;
  if (databaseUrl) {
    assertTestDatabaseUrl(databaseUrl);
    const env: Record<string, string> = { DATABASE_URL: databaseUrl };
    for (const key of ['DATABASE_DIRECT_URL', 'DATABASE_POOLER'] as const) {
      const value = process.env[key];
      if (value) env[key] = value;
    }
    if (env.DATABASE_DIRECT_URL) assertTestDatabaseUrl(env.DATABASE_DIRECT_URL);
    return { env, cleanup: async () => undefined };
  }
  const template = process.env.TEST_PGLITE_TEMPLATE_DIR;
  if (!template) {
    throw new Error(
      'TEST_PGLITE_TEMPLATE_DIR is unset: run e2e specs with `jest --selectProjects e2e` (its globalSetup builds it)',
    );
  }
  const dataDir = mkdtempSync(join(tmpdir(), `${TEST_DATA_DIR_PREFIX}${process.pid}-`));
  cpSync(template, dataDir, { recursive: true });
  return {
    env: { DATA_DIR: dataDir, DB_MIGRATE_ON_BOOT: 'true' },
    cleanup: async () => rmSync(dataDir, { recursive: true, force: true }),
  };
}

/** Tests write to and revert the schema of their database: refuse one whose name does not say `test`. */
export function assertTestDatabaseUrl(databaseUrl: string): void {
  const name = decodeURIComponent(new URL(databaseUrl).pathname.slice(1));
  if (!name.toLowerCase().includes('test')) {
    throw new Error(`Refusing to run tests on database "${name}": its name must contain "test"`);
  }
}
