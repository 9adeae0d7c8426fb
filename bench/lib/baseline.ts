import { join } from 'node:path';
import { type Child, childFailure, startChild } from './children';
import { type Measured, measure } from './memory';
import { freePort } from './ports';
import { httpGet, waitFor } from './util';

const READY_TIMEOUT_MS = 30_000;

export interface Baseline {
  url: string;
  child: Child;
  measured: Measured;
  stop(): Promise<void>;
}

export interface BaselineOptions {
  root: string;
  sqlUrl: string;
  simUrl: string;
  secret: string;
  poolSize: number;
  /** The service's `GET /api/{user_id}/tools` body, which the baseline answers verbatim. */
  toolsBody: string;
}

/** The bare Fastify + pg floor (baseline/server.ts) on the service's database and simulator. */
export async function startBaseline(options: BaselineOptions): Promise<Baseline> {
  const port = await freePort();
  const child = startChild({
    name: 'baseline',
    script: join(__dirname, '..', 'baseline', 'server.js'),
    cwd: options.root,
    probe: true,
    env: {
      NODE_ENV: 'production',
      BASELINE_PORT: String(port),
      BASELINE_TOOLS_BODY: options.toolsBody,
      DATABASE_URL: options.sqlUrl,
      DB_POOL_SIZE: String(options.poolSize),
      JWT_SECRET: options.secret,
      ANTHROPIC_API_KEY: 'bench',
      ANTHROPIC_BASE_URL: options.simUrl,
    },
  });
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitFor(
      'baseline /health',
      async () => ((await httpGet(`${url}/health`))?.status === 200 ? true : undefined),
      {
        timeoutMs: READY_TIMEOUT_MS,
        abort: child.exitReason,
      },
    );
  } catch (error) {
    throw childFailure(child, `is not ready: ${(error as Error).message}`);
  }
  return { url, child, measured: await measure(child, url), stop: () => child.stop(5_000) };
}
