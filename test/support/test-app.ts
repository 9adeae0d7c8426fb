import { Test, type TestingModuleBuilder } from '@nestjs/testing';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { randomUUID } from 'node:crypto';
import jwt from 'jsonwebtoken';
import type { DestinationStream } from 'pino';
import { DataSource } from 'typeorm';
import { AppModule } from '../../src/app.module';
import { configureApp, createFastifyAdapter } from '../../src/bootstrap/create-app';
import { createLogger } from '../../src/common/logging/create-logger';
import { loadConfig, type AppConfig } from '../../src/config/app-config';
import { prepareTestDatabase } from './test-database';

export const TEST_JWT_SECRET = 'e2e-test-secret-that-is-long-enough-for-hs256-0123456789';

export interface TestApp {
  app: NestFastifyApplication;
  config: AppConfig;
  dataSource: DataSource;
  /** A valid HS256 token for `sub`, signed with the test secret; `claims` override or add claims. */
  tokenFor(sub: string, claims?: Record<string, unknown>): string;
  /** Authorization headers for a fresh or given user. */
  authHeaders(sub: string): { authorization: string };
  close(): Promise<void>;
}

export interface TestAppOptions {
  env?: Record<string, string>;
  /** Swap a provider (an outside system) for the test: `(builder) => builder.overrideProvider(...)`. */
  customize?: (builder: TestingModuleBuilder) => TestingModuleBuilder;
  /** Where the app's pino log goes (set `LOG_LEVEL` in `env` too): to read what it logged. */
  logDestination?: DestinationStream;
}

/**
 * The real application (same module, adapter, filter, pipes and docs as main.ts) on a real
 * database: a fresh embedded PGlite cloned from the migrated template, or the DATABASE_URL one.
 */
export async function createTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const database = await prepareTestDatabase();
  const config = loadConfig({
    NODE_ENV: 'test',
    JWT_SECRET: TEST_JWT_SECRET,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    ...database.env,
    ...options.env,
  });
  const builder = Test.createTestingModule({ imports: [AppModule.forRoot(config)] });
  const moduleRef = await (options.customize?.(builder) ?? builder).compile();
  const app = moduleRef.createNestApplication<NestFastifyApplication>(
    createFastifyAdapter(config, createLogger(config.logLevel, options.logDestination)),
    { logger: false },
  );
  await configureApp(app);

  const tokenFor = (sub: string, claims: Record<string, unknown> = {}) =>
    jwt.sign({ sub, ...claims }, TEST_JWT_SECRET, { algorithm: 'HS256', expiresIn: '10m' });
  return {
    app,
    config,
    dataSource: app.get(DataSource),
    tokenFor,
    authHeaders: (sub) => ({ authorization: `Bearer ${tokenFor(sub)}` }),
    close: async () => {
      await app.close();
      await database.cleanup();
    },
  };
}

/** A user id no other test uses, so tests sharing one PostgreSQL never see each other's data. */
export function newUserId(): string {
  return `user-${randomUUID()}`;
}
