import type { Pool } from 'pg';
import { type Baseline, startBaseline } from './baseline';
import type { Child } from './children';
import { type BenchDatabase, createBenchDatabase, type DbKind, seedPool } from './database';
import type { LoadResult, MeasureOptions } from './load';
import type { Measured } from './memory';
import type { ScenarioReport } from './report';
import { type Service, startService } from './service';
import { type Simulator, startSimulator } from './simulator';
import type { PaceSpec } from './simulator-protocol';
import { benchUsers } from './tokens';
import { httpGet } from './util';

export interface BenchOptions {
  root: string;
  /** Seconds of each measured step. */
  durationS: number;
  /** Seconds of load before each measured step, discarded. */
  warmupS: number;
  /** S6's length in seconds. */
  soakS: number;
  /** S6's rate (turns/s); default half of S1's turns/s at 16 clients. */
  soakRate?: number;
  pgAdminUrl: string;
  /** The service's DB_POOL_SIZE on PostgreSQL, and the baseline's pool. */
  poolSize: number;
  /** The same on the embedded database (see EMBEDDED_POOL_NOTE). */
  embeddedPoolSize: number;
}

/**
 * Why the embedded database runs with a pool of 1 by default: pglite-socket 0.2.17 queues each
 * protocol message on its own, so the Parse/Bind/Execute of concurrent connections interleave on the
 * one PGlite backend outside transactions ("bind message supplies 3 parameters, but prepared statement
 * requires 4", "unnamed prepared statement does not exist", "portal does not exist", hung requests).
 * PGlite runs one query at a time anyway, so one connection costs little concurrency.
 */
export const EMBEDDED_POOL_NOTE =
  'embedded: service DB_POOL_SIZE and baseline pool = 1 (--embedded-pool): with more connections ' +
  'pglite-socket 0.2.17 interleaves concurrent extended-protocol queries (500s, hangs)';

/** What every scenario gets: the options, the database kind, and a way to start what it measures. */
export interface ScenarioContext {
  db: DbKind;
  options: BenchOptions;
  /** Figures earlier scenarios of this run left for later ones (S1's turns/s for S6). */
  shared: Map<string, number>;
  log(message: string): void;
  startStack(spec: StackSpec): Promise<Stack>;
  /** measureLoad with this run's duration and warm-up unless given. */
  measure(options: Omit<MeasureOptions, 'durationS' | 'warmupS'> & Partial<MeasureOptions>): Promise<LoadResult>;
}

export interface StackSpec {
  /** Names the database (`bench_<tag>_…`) or temp dir. */
  tag: string;
  /** The simulated model's fixed delay. */
  delayMs: number;
  /** Make the simulator call this tool (see simulator-child.ts). */
  tool?: string;
  /** Pace the simulator's streamed answers. */
  pace?: PaceSpec;
  baseline?: boolean;
  serviceEnv?: Record<string, string>;
  /** A checkout whose dist/ holds another build of the service (default: this one). */
  serviceRoot?: string;
  /** `node` flags for the service (e.g. --expose-gc). */
  serviceNodeArgs?: string[];
}

/** A fresh database, the simulator, the service (migrated), and the baseline on the same database. */
export interface Stack {
  db: BenchDatabase;
  sim: Simulator;
  service: Service;
  baseline?: Baseline;
  secret: string;
  /** Another replica of the service on the same database and simulator (PostgreSQL only). */
  startReplica(): Promise<Service>;
  /** A pool on the service's database, for seeding. */
  sql(): Pool;
}

export async function startStack(db: DbKind, options: BenchOptions, secret: string, spec: StackSpec): Promise<Stack> {
  const poolSize = db === 'embedded' ? options.embeddedPoolSize : options.poolSize;
  const database = await createBenchDatabase(db, options.pgAdminUrl, spec.tag);
  const sim = await startSimulator({ delayMs: spec.delayMs, tool: spec.tool, pace: spec.pace, cwd: options.root });
  const replica = (): Promise<Service> =>
    startService({
      root: spec.serviceRoot ?? options.root,
      db: database,
      simUrl: sim.url,
      secret,
      env: { DB_POOL_SIZE: String(poolSize), ...spec.serviceEnv },
      nodeArgs: spec.serviceNodeArgs,
    });
  const service = await replica();
  const baseline = spec.baseline
    ? await startBaseline({
        root: options.root,
        sqlUrl: service.sqlUrl,
        simUrl: sim.url,
        secret,
        // The embedded server accepts the service's pool + 4 connections: the baseline stays within.
        poolSize: db === 'embedded' ? Math.min(4, poolSize) : poolSize,
        toolsBody: await fetchToolsBody(service.url, secret),
      })
    : undefined;
  let pool: Pool | undefined;
  const startReplica = (): Promise<Service> => {
    if (db !== 'postgres') throw new Error('replicas share a database on PostgreSQL only');
    return replica();
  };
  return {
    db: database,
    sim,
    service,
    baseline,
    secret,
    startReplica,
    sql: () => (pool ??= seedPool(service.sqlUrl)),
  };
}

export type Target = 'service' | 'baseline';

export function targetOf(stack: Stack, target: Target): { url: string; measured: Measured; child: Child } {
  const server = target === 'service' ? stack.service : stack.baseline;
  if (!server) throw new Error('this stack has no baseline');
  return { url: server.url, measured: server.measured, child: server.child };
}

export interface Scenario {
  id: string;
  title: string;
  /** Rough seconds of load, for the run's time bound. */
  plannedSeconds(options: BenchOptions): number;
  run(context: ScenarioContext, report: ScenarioReport): Promise<void>;
}

/** The service's tools answer, for the baseline to serve the same bytes in S0. */
async function fetchToolsBody(serviceUrl: string, secret: string): Promise<string> {
  const [user] = benchUsers(secret, 'tools-probe', 1);
  const answer = await httpGet(`${serviceUrl}/api/${user.userId}/tools`, { authorization: user.authorization });
  if (answer?.status !== 200) throw new Error(`GET /api/{user_id}/tools answered ${answer?.status ?? 'nothing'}`);
  return answer.body;
}
