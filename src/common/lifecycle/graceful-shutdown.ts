import type { INestApplication } from '@nestjs/common';
import type { Logger } from 'pino';

const SHUTDOWN_SIGNALS = ['SIGTERM', 'SIGINT'] as const;

/** The steps and their logging: docs/architecture.md#the-http-edge. A second signal does not start another. */
export function shutDownGracefullyOnSignals(app: INestApplication, logger: Logger, graceMs: number): void {
  let stopping = false;
  for (const signal of SHUTDOWN_SIGNALS) {
    process.on(signal, () => {
      if (stopping) return;
      stopping = true;
      void shutDown(app, logger, signal, graceMs);
    });
  }
}

async function shutDown(app: INestApplication, logger: Logger, signal: string, graceMs: number): Promise<void> {
  const startedAt = Date.now();
  logger.info({ signal }, `${signal}: stopping; new turns are refused, running ones get up to ${graceMs} ms`);
  try {
    await app.close();
    logger.info({ elapsed_ms: Date.now() - startedAt }, 'stopped: turns settled, connections closed; exiting with 0');
    process.exit(0);
  } catch (error) {
    logger.error({ err: error }, 'shutdown failed; exiting with 1');
    process.exit(1);
  }
}
