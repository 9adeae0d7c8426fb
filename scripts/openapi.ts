import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppModule } from '../src/app.module';
import { findOpenApiViolations } from '../src/bootstrap/openapi-rules';
import { buildOpenApiDocument } from '../src/bootstrap/swagger';
import { loadConfig } from '../src/config/app-config';

const OUTPUT = join(__dirname, '..', '..', 'openapi.json');

/**
 * Writes the OpenAPI document (from the compiled app, so the Swagger plugin's metadata is in it) to
 * openapi.json; with --check, fails when the committed file differs. Either way it fails when the
 * document breaks a rule of {@link findOpenApiViolations} (a bare object body…). Preview mode builds the
 * route table without connecting to a database or any outside system.
 */
async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'chat-service-openapi-'));
  try {
    const config = loadConfig({ NODE_ENV: 'development', DATA_DIR: dataDir, LOG_LEVEL: 'silent' });
    const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(config), new FastifyAdapter(), {
      preview: true,
      logger: false,
    });
    const built = buildOpenApiDocument(app);
    await app.close();
    const violations = findOpenApiViolations(built);
    if (violations.length > 0) {
      process.stderr.write(`The OpenAPI document breaks its rules:\n${violations.map((v) => `  ${v}\n`).join('')}`);
      process.exitCode = 1;
    }
    const document = `${JSON.stringify(built, null, 2)}\n`;
    if (process.argv.includes('--check')) {
      if (readFileSync(OUTPUT, 'utf8') !== document) {
        process.stderr.write('openapi.json is out of date: run `npm run openapi` and commit it.\n');
        process.exitCode = 1;
      }
      return;
    }
    writeFileSync(OUTPUT, document);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

void main();
