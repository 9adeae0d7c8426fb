import type { DataSourceOptions } from 'typeorm';
import { ALL_MIGRATIONS } from '../../migrations';
import type { AppConfig } from '../config/app-config';
import { CrashSafeClient } from './crash-safe-client';

/** Entity classes, listed, not globbed, so Jest, the CLI and dist/ load the same set; the features own theirs. */
export type EntityList = readonly (new () => object)[];

/** typeorm does not export this type from its root, and deep imports do not resolve under nodenext. */
export type PostgresDataSourceOptions = Extract<DataSourceOptions, { type: 'postgres' }>;

const CONNECT_TIMEOUT_MS = 5_000;
/**
 * pglite-socket 0.2.17 interleaves concurrent connections' extended-protocol messages ("bind message
 * supplies 2 parameters, but prepared statement requires 4"); PGlite is one backend anyway.
 */
const EMBEDDED_POOL_SIZE = 1;
const APPLICATION_NAME = 'chat-service';

export function buildDataSourceOptions(
  config: AppConfig,
  url: string,
  entities: EntityList,
): PostgresDataSourceOptions {
  return {
    type: 'postgres',
    url,
    entities: [...entities],
    migrations: ALL_MIGRATIONS,
    migrationsTableName: 'migrations',
    // Each migration commits on its own, so a failure leaves the earlier ones applied and recorded.
    migrationsTransactionMode: 'each',
    synchronize: false,
    migrationsRun: false,
    poolSize: config.databaseUrl ? config.db.poolSize : EMBEDDED_POOL_SIZE,
    connectTimeoutMS: CONNECT_TIMEOUT_MS,
    applicationName: APPLICATION_NAME,
    // gen_random_uuid() is core since PostgreSQL 13, so no extension has to be created (or allowed).
    uuidExtension: 'pgcrypto',
    installExtensions: false,
    // Query errors reach the caller as exceptions; logging them here would also log parameters (user text).
    logging: ['warn', 'migration'],
    extra: { Client: CrashSafeClient },
  };
}
