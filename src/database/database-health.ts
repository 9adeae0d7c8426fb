import { Injectable, Logger } from '@nestjs/common';
import { DataSource, MigrationExecutor } from 'typeorm';

const HEALTH_CHECK_TIMEOUT_MS = 2_000;

export type DatabaseHealthStatus =
  { database: 'up'; pendingMigrations: number } | { database: 'down'; pendingMigrations: null };

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
