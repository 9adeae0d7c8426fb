import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ALL_ENTITIES } from '../../src/app.entities';
import { loadConfig } from '../../src/config/app-config';
import { isRunning, startEmbeddedPostgres } from '../../src/database/embedded-postgres';
import { migrate as migrateDatabase } from '../../src/database/migrations-runner';
import { assertTestDatabaseUrl, TEST_DATA_DIR_PREFIX } from './test-database';

const TEMPLATE_PREFIX = 'chat-service-pglite-template-';

/**
 * Once per e2e run: a migrated database. Embedded: a PGlite data folder, migrated once, that each
 * test file copies (Jest workers inherit TEST_PGLITE_TEMPLATE_DIR). PostgreSQL: the migrations, once.
 */
export default async function globalSetup(): Promise<void> {
  const databaseUrl = process.env.DATABASE_URL;
  if (databaseUrl) {
    assertTestDatabaseUrl(databaseUrl);
    await migrate(databaseUrl);
    return;
  }
  sweepLeftovers();
  const templateDir = mkdtempSync(join(tmpdir(), `${TEMPLATE_PREFIX}${process.pid}-`));
  const embedded = await startEmbeddedPostgres({ dataDir: templateDir, poolSize: 1 });
  try {
    await migrate(embedded.url);
  } finally {
    await embedded.close();
  }
  process.env.TEST_PGLITE_TEMPLATE_DIR = templateDir;
}

/** The service's own migration step (advisory lock included) on a one-off DataSource. */
function migrate(url: string): Promise<void> {
  const config = loadConfig({
    NODE_ENV: 'test',
    JWT_SECRET: 'unused-by-the-global-setup',
    DATABASE_URL: url,
    DATABASE_DIRECT_URL: process.env.DATABASE_DIRECT_URL,
    DATABASE_POOLER: process.env.DATABASE_POOLER,
  });
  return migrateDatabase(config, url, ALL_ENTITIES);
}

/** Jest has no teardown here: remove the folders of earlier runs whose process has ended. */
function sweepLeftovers(): void {
  for (const name of readdirSync(tmpdir())) {
    const match = new RegExp(`^(?:${TEMPLATE_PREFIX}|${TEST_DATA_DIR_PREFIX})(\\d+)-`).exec(name);
    if (match && !isRunning(Number(match[1]))) rmSync(join(tmpdir(), name), { recursive: true, force: true });
  }
}
