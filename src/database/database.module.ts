import { type DynamicModule, Module } from '@nestjs/common';
import { TypeOrmModule, type TypeOrmModuleOptions } from '@nestjs/typeorm';
import { AppConfig } from '../config/app-config';
import { DatabaseHealth } from './database-health';
import { DatabaseNotifications } from './database-notifications';
import { buildDataSourceOptions, type EntityList } from './data-source-options';
import { EmbeddedDatabaseHost } from './embedded-database.host';
import { migrate } from './migrations-runner';
import { PreparedStatements } from './prepared-statements';

export interface DatabaseModuleOptions {
  /** Every feature's entities: the composition root assembles them, so this module imports no feature. */
  entities: EntityList;
}

async function createTypeOrmOptions(
  config: AppConfig,
  host: EmbeddedDatabaseHost,
  entities: EntityList,
): Promise<TypeOrmModuleOptions> {
  const url = config.databaseUrl ?? (await host.start(config));
  try {
    if (config.db.migrateOnBoot) await migrate(config, url, entities);
  } catch (error) {
    await host.close();
    throw error;
  }
  // @nestjs/typeorm retries a failed connect 9 × 3 s by default: enough tries for a server still starting, less stall.
  return { ...buildDataSourceOptions(config, url, entities), retryAttempts: 3, retryDelay: 2_000 };
}

/** Global, like the DataSource TypeOrmModule registers: every repository needs it. */
@Module({})
export class DatabaseModule {
  static forRoot({ entities }: DatabaseModuleOptions): DynamicModule {
    return {
      module: DatabaseModule,
      global: true,
      imports: [
        TypeOrmModule.forRootAsync({
          inject: [AppConfig, EmbeddedDatabaseHost],
          extraProviders: [EmbeddedDatabaseHost],
          useFactory: (config: AppConfig, host: EmbeddedDatabaseHost) => createTypeOrmOptions(config, host, entities),
        }),
      ],
      providers: [DatabaseHealth, PreparedStatements, DatabaseNotifications],
      exports: [DatabaseHealth, PreparedStatements, DatabaseNotifications],
    };
  }
}
