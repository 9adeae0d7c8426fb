import { Injectable, Logger, Module, type OnApplicationShutdown } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { TypeOrmModule, type TypeOrmModuleOptions } from '@nestjs/typeorm';
import { DataSource, type Migration, MigrationExecutor, type QueryRunner } from 'typeorm';
import { AppConfig } from '../config/app-config';
import { buildDataSourceOptions } from './data-source-options';
import { type EmbeddedPostgres, startEmbeddedPostgres } from './embedded-postgres';

/** Any constant: replicas that boot together take turns applying migrations under this advisory lock. */
const MIGRATION_LOCK_KEY = 7_231_604_119;
const HEALTH_CHECK_TIMEOUT_MS = 2_000;

/**
 * Owns the embedded database when DATABASE_URL is unset. It is provided next to the DataSource so
 * that it can close PGlite only once the DataSource (every pooled connection) is gone.
 */
@Injectable()
export class EmbeddedDatabaseHost implements OnApplicationShutdown {
  private readonly logger = new Logger(EmbeddedDatabaseHost.name);
  private embedded?: EmbeddedPostgres;

  constructor(private readonly moduleRef: ModuleRef) {}

  async start(config: AppConfig): Promise<string> {
    const startedAt = Date.now();
    this.embedded = await startEmbeddedPostgres({ dataDir: config.dataDir, poolSize: config.db.poolSize });
    this.logger.log(`Embedded PostgreSQL (PGlite) opened in ${config.dataDir} in ${Date.now() - startedAt} ms`);
    return this.embedded.url;
  }

  async close(): Promise<void> {
    await this.embedded?.close();
  }

  /**
   * Nest calls a module's providers before the module class itself, so TypeOrmCoreModule would
   * destroy the DataSource only after this hook; destroy it here first (it then skips it).
   */
  async onApplicationShutdown(): Promise<void> {
    if (!this.embedded) return;
    const dataSource = this.moduleRef.get(DataSource);
    if (dataSource.isInitialized) await dataSource.destroy();
    await this.close();
  }
}

async function createTypeOrmOptions(config: AppConfig, host: EmbeddedDatabaseHost): Promise<TypeOrmModuleOptions> {
  const url = config.databaseUrl ?? (await host.start(config));
  try {
    if (config.db.migrateOnBoot) await migrate(config, url);
  } catch (error) {
    await host.close();
    throw error;
  }
  // @nestjs/typeorm retries a failed connect 9 × 3 s by default: enough tries for a server still starting, less stall.
  return { ...buildDataSourceOptions(config, url), retryAttempts: 3, retryDelay: 2_000 };
}

/**
 * Applies pending migrations on a short-lived DataSource before the service's own is created, so no
 * provider can query an old schema. On DATABASE_DIRECT_URL when set; else on `url`, where replicas
 * take turns under a session advisory lock, or, through a transaction-mode pooler (which would run
 * the lock and its unlock on different server connections, leaking the lock), a transaction-scoped
 * one held by a single transaction around every pending migration.
 */
export async function migrate(config: AppConfig, url: string): Promise<void> {
  // A direct URL stands for DATABASE_URL's server: it means nothing to the embedded database.
  const direct = config.databaseUrl === undefined ? undefined : config.databaseDirectUrl;
  const target = direct ?? url;
  const pooled = direct === undefined && config.db.pooler === 'pgbouncer';
  const logger = new Logger('DatabaseMigrations');
  const dataSource = await new DataSource({ ...buildDataSourceOptions(config, target), poolSize: 1 }).initialize();
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

/** `pendingMigrations` is unknown (null) while the database cannot be reached. */
export type DatabaseHealthStatus =
  { database: 'up'; pendingMigrations: number } | { database: 'down'; pendingMigrations: null };

/** Readiness of the database: reachable, and every migration the code knows applied. */
@Injectable()
export class DatabaseHealth {
  private readonly logger = new Logger(DatabaseHealth.name);

  constructor(private readonly dataSource: DataSource) {}

  async check(): Promise<DatabaseHealthStatus> {
    try {
      const pending = await withTimeout(
        new MigrationExecutor(this.dataSource).getPendingMigrations(),
        HEALTH_CHECK_TIMEOUT_MS,
      );
      return { database: 'up', pendingMigrations: pending.length };
    } catch (error) {
      this.logger.warn(`Database health check failed: ${error instanceof Error ? error.message : String(error)}`);
      return { database: 'down', pendingMigrations: null };
    }
  }
}

/** A probe must answer even when the database hangs; the late result is ignored. */
function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * The DataSource (injectable everywhere: TypeOrmModule registers it globally), started after the
 * embedded database when DATABASE_URL is unset and after pending migrations when DB_MIGRATE_ON_BOOT.
 */
@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      inject: [AppConfig, EmbeddedDatabaseHost],
      extraProviders: [EmbeddedDatabaseHost],
      useFactory: createTypeOrmOptions,
    }),
  ],
  providers: [DatabaseHealth],
  exports: [DatabaseHealth],
})
export class DatabaseModule {}
