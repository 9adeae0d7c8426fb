import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { AppModule } from './app.module';
import { configureApp, createFastifyAdapter } from './bootstrap/create-app';
import { shutDownGracefullyOnSignals } from './common/lifecycle/graceful-shutdown';
import { createLogger } from './common/logging/create-logger';
import { PinoNestLogger } from './common/logging/pino-nest-logger';
import { ConfigError, loadConfig, type AppConfig } from './config/app-config';

async function bootstrap(): Promise<void> {
  const config = loadConfigOrExit();
  const logger = createLogger(config.logLevel);
  const app = await NestFactory.create<NestFastifyApplication>(
    AppModule.forRoot(config),
    createFastifyAdapter(config, logger),
    { logger: new PinoNestLogger(logger) },
  );
  shutDownGracefullyOnSignals(app, logger, config.shutdownGraceMs);
  await configureApp(app);
  if (config.nodeEnv === 'production' && !config.anthropic.apiKey) {
    logger.warn('ANTHROPIC_API_KEY is not set: every chat turn will answer 503 model_not_configured');
  }
  await app.listen({ port: config.port, host: config.host });
  const origin = await app.getUrl();
  logger.info(
    { database: config.databaseUrl ? 'postgresql' : 'embedded', url: origin },
    `listening on ${origin}; Swagger UI at ${origin}/docs`,
  );
}

function loadConfigOrExit(): AppConfig {
  try {
    return loadConfig(process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
}

void bootstrap();
