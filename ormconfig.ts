import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { ALL_ENTITIES } from './src/app.entities';
import { loadConfig } from './src/config/app-config';
import { buildDataSourceOptions, type PostgresDataSourceOptions } from './src/database/data-source-options';
import { type EmbeddedPostgres, startEmbeddedPostgres } from './src/database/embedded-postgres';

/** Closes the embedded database once the CLI has destroyed the DataSource, so the command can exit. */
class EmbeddedCliDataSource extends DataSource {
  constructor(
    options: PostgresDataSourceOptions,
    private readonly embedded: EmbeddedPostgres,
  ) {
    super(options);
  }

  override async destroy(): Promise<void> {
    try {
      await super.destroy();
    } finally {
      await this.embedded.close();
    }
  }
}

async function createCliDataSource(): Promise<DataSource> {
  const config = loadConfig(process.env);
  // Migrations are session work: past the pooler when a direct URL is given.
  if (config.databaseUrl)
    return new DataSource(buildDataSourceOptions(config, config.databaseDirectUrl ?? config.databaseUrl, ALL_ENTITIES));
  const embedded = await startEmbeddedPostgres({ dataDir: config.dataDir, poolSize: config.db.poolSize });
  return new EmbeddedCliDataSource(buildDataSourceOptions(config, embedded.url, ALL_ENTITIES), embedded);
}

/**
 * The DataSource of the TypeORM CLI: `typeorm -d dist/ormconfig.js migration:run`. Same options as the
 * service; without DATABASE_URL it opens the embedded database in DATA_DIR (the service must be stopped).
 */
export default createCliDataSource();
