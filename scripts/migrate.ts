import 'reflect-metadata';
import { loadConfig } from '../src/config/app-config';
import { ALL_ENTITIES } from '../src/app.entities';
import { startEmbeddedPostgres } from '../src/database/embedded-postgres';
import { migrate } from '../src/database/migrations-runner';

/**
 * `node dist/scripts/migrate.js` (`npm run migrate`): applies pending migrations the way the service
 * does at boot (same lock, DATABASE_DIRECT_URL when set) with production dependencies only, so it runs
 * in the image. Without DATABASE_URL it opens the embedded database in DATA_DIR (stop the service first).
 */
async function main(): Promise<void> {
  const config = loadConfig(process.env);
  if (config.databaseUrl) return migrate(config, config.databaseUrl, ALL_ENTITIES);
  const embedded = await startEmbeddedPostgres({ dataDir: config.dataDir, poolSize: 1 });
  try {
    await migrate(config, embedded.url, ALL_ENTITIES);
  } finally {
    await embedded.close();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
