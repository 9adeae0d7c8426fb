import { Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { DataSource } from 'typeorm';
import { AppConfig } from '../config/app-config';
import { type EmbeddedPostgres, startEmbeddedPostgres } from './embedded-postgres';

/** Provided next to the DataSource, so PGlite closes only once every pooled connection is gone. */
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

  /** Nest runs this before TypeOrmCoreModule's own hook, so the DataSource is destroyed here first. */
  async onApplicationShutdown(): Promise<void> {
    if (!this.embedded) return;
    const dataSource = this.moduleRef.get(DataSource);
    if (dataSource.isInitialized) await dataSource.destroy();
    await this.close();
  }
}
