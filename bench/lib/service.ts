import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { type Child, childFailure, startChild } from './children';
import { embeddedDatabaseUrl } from '../../src/database/embedded-postgres';
import { type BenchDatabase } from './database';
import { type Measured, measure } from './memory';
import { freePort } from './ports';
import { httpGet, waitFor } from './util';

/** Embedded first boot runs initdb in WASM (≈ 5 s) and the migrations: leave room on a busy machine. */
const READY_TIMEOUT_MS = 120_000;
const STOP_GRACE_MS = 10_000;

export interface Service {
  url: string;
  port: number;
  child: Child;
  measured: Measured;
  /** Where seeding SQL and the baseline go: the same database the service uses. */
  sqlUrl: string;
  stop(): Promise<void>;
}

export interface ServiceOptions {
  root: string;
  db: BenchDatabase;
  simUrl: string;
  secret: string;
  /** Overrides, e.g. DB_POOL_SIZE. */
  env?: Record<string, string>;
  /** A token for `/metrics` if it turns out to need one. */
  authorization?: string;
  nodeArgs?: string[];
}

/**
 * `node dist/src/main.js` as production runs it (NODE_ENV=production, LOG_LEVEL=warn) against the
 * simulator, with the rate limit out of the way; resolves once `/health/ready` answers 200.
 */
export async function startService(options: ServiceOptions): Promise<Service> {
  const script = join(options.root, 'dist', 'src', 'main.js');
  if (!existsSync(script)) throw new Error(`${script} is missing: build the service first (npx nest build)`);
  const port = await freePort();
  const child = startChild({
    name: 'service',
    script,
    cwd: options.root,
    probe: true,
    nodeArgs: options.nodeArgs,
    env: {
      NODE_ENV: 'production',
      HOST: '127.0.0.1',
      PORT: String(port),
      LOG_LEVEL: 'warn',
      JWT_SECRET: options.secret,
      ANTHROPIC_API_KEY: 'bench',
      ANTHROPIC_BASE_URL: options.simUrl,
      CHAT_RATE_LIMIT_PER_MINUTE: '100000',
      SHUTDOWN_GRACE_MS: '3000',
      ...options.db.serviceEnv,
      ...options.env,
    },
  });
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitFor(
      'service /health/ready',
      async () => ((await httpGet(`${url}/health/ready`))?.status === 200 ? true : undefined),
      { timeoutMs: READY_TIMEOUT_MS, intervalMs: 250, abort: child.exitReason },
    );
  } catch (error) {
    throw childFailure(child, `is not ready: ${(error as Error).message}`);
  }
  const sqlUrl = options.db.sqlUrl ?? embeddedDatabaseUrl(options.db.serviceEnv.DATA_DIR);
  const measured = await measure(child, url, options.authorization);
  return { url, port, child, measured, sqlUrl, stop: () => child.stop(STOP_GRACE_MS) };
}
