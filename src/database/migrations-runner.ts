import { Logger } from '@nestjs/common';
import { DataSource, type Migration, MigrationExecutor, type QueryRunner } from 'typeorm';
import type { AppConfig } from '../config/app-config';
import { buildDataSourceOptions, type EntityList } from './data-source-options';

/** Any constant: replicas that boot together take turns applying migrations under this advisory lock. */
const MIGRATION_LOCK_KEY = 7_231_604_119;

/**
 * Before the service's DataSource exists, so no provider queries an old schema. Behind a transaction-mode
 * pooler a session lock would leak, so one transaction holds a transaction-scoped lock around them all.
 */
export async function migrate(config: AppConfig, url: string, entities: EntityList): Promise<void> {
  // A direct URL stands for DATABASE_URL's server: it means nothing to the embedded database.
  const direct = config.databaseUrl === undefined ? undefined : config.databaseDirectUrl;
  const target = direct ?? url;
  const pooled = direct === undefined && config.db.pooler === 'pgbouncer';
  const logger = new Logger('DatabaseMigrations');
  const dataSource = await new DataSource({
    ...buildDataSourceOptions(config, target, entities),
    poolSize: 1,
  }).initialize();
  const queryRunner = dataSource.createQueryRunner();
  try {
    const executor = new MigrationExecutor(dataSource, queryRunner);
    const applied = pooled
      ? await migrateInOneTransaction(queryRunner, executor)
      : await migrateUnderSessionLock(queryRunner, executor);
    logger.log(
      applied.length === 0
        ? `Schema up to date (${dataSource.migrations.length} migrations)`
        : `Applied ${applied.length} migration(s): ${applied.map((migration) => migration.name).join(', ')}`,
    );
  } finally {
    await queryRunner.release();
    await dataSource.destroy();
  }
}

async function migrateUnderSessionLock(queryRunner: QueryRunner, executor: MigrationExecutor): Promise<Migration[]> {
  await queryRunner.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
  try {
    // Each migration commits on its own, so a failure leaves the earlier ones applied and recorded.
    executor.transaction = 'each';
    return await executor.executePendingMigrations();
  } finally {
    await queryRunner.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
  }
}

async function migrateInOneTransaction(queryRunner: QueryRunner, executor: MigrationExecutor): Promise<Migration[]> {
  await queryRunner.startTransaction();
  try {
    await queryRunner.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY]);
    executor.transaction = 'none';
    const applied = await executor.executePendingMigrations();
    await queryRunner.commitTransaction();
    return applied;
  } catch (error) {
    await queryRunner.rollbackTransaction();
    throw error;
  }
}
