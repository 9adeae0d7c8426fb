/**
 * `npm run bench -- <scenario>[,<scenario>…]|all [options]`: load scenarios S0–S8 and S1L (docs/benchmarks.md)
 * against the compiled service (dist/), the Anthropic simulator and the bare Fastify + pg baseline, on
 * the embedded database and/or PostgreSQL. Every process, database and temp dir it starts is removed
 * at the end, on failure and on Ctrl-C.
 */
import { writeFileSync } from 'node:fs';
import { cpus, freemem, loadavg, totalmem } from 'node:os';
import { runCleanups, scoped } from './lib/cleanup';
import { type DbKind, serverVersion } from './lib/database';
import { measureLoad } from './lib/load';
import { formatReport, formatTable, passes, type ScenarioReport } from './lib/report';
import { type BenchOptions, EMBEDDED_POOL_NOTE, type ScenarioContext, startStack } from './lib/stack';
import { newSecret } from './lib/tokens';
import { repoRoot } from './lib/util';
import { SCENARIOS } from './scenarios';

const USAGE = `usage: npm run bench -- <S0|S1|S2|S3|S4|S5|S6|S7|S8|S1L|all>[,…] [options]
  --db embedded|postgres|both   database(s) to run on (default both; targets are held on postgres)
  --duration S                  seconds per measured step (default 10)
  --warmup S                    seconds of discarded load before each step (default 2)
  --soak S                      S6 length in seconds (default 600)
  --rate N                      S6 turns/s (default half of S1's turns/s at 16 clients)
  --pool N                      the service's DB_POOL_SIZE and the baseline's pool on PostgreSQL (default 10)
  --embedded-pool N             the same on the embedded database (default 1: see docs/benchmarks.md)
  --pg-url URL                  PostgreSQL server for bench_* databases (default $BENCH_PG_URL or
                                postgres://postgres@127.0.0.1:5432/postgres)
  --json FILE                   also write every figure as JSON
  --quick                       smoke test: --duration 3 --warmup 1 --soak 30`;

class UsageError extends Error {}

interface CliArgs {
  scenarios: string[];
  dbs: DbKind[];
  options: Omit<BenchOptions, 'root'>;
  json?: string;
}

function parseArgs(argv: string[]): CliArgs {
  const flags = new Map<string, string>();
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--quick' || arg === '--help' || arg === '-h') flags.set(arg, 'true');
    else if (arg.startsWith('--')) {
      const [name, inline] = arg.split('=', 2);
      const value = inline ?? argv[++i];
      if (value === undefined) throw new UsageError(`${name} needs a value`);
      flags.set(name, value);
    } else positional.push(arg);
  }
  if (flags.has('--help') || flags.has('-h') || positional.length !== 1) throw new UsageError(USAGE);
  const known = new Set([
    '--quick',
    '--db',
    '--duration',
    '--warmup',
    '--soak',
    '--rate',
    '--pool',
    '--embedded-pool',
    '--pg-url',
    '--json',
  ]);
  for (const name of flags.keys()) if (!known.has(name)) throw new UsageError(`unknown option ${name}\n${USAGE}`);

  const quick = flags.has('--quick');
  const number = (name: string, fallback: number, min: number, max: number): number => {
    const raw = flags.get(name);
    const value = raw === undefined ? fallback : Number(raw);
    if (!Number.isFinite(value) || value < min || value > max) throw new UsageError(`${name} must be ${min}..${max}`);
    return value;
  };
  const ids = SCENARIOS.map((s) => s.id);
  const wanted = positional[0].toUpperCase() === 'ALL' ? ids : positional[0].toUpperCase().split(',');
  for (const id of wanted) if (!ids.includes(id)) throw new UsageError(`unknown scenario ${id}\n${USAGE}`);
  const db = flags.get('--db') ?? 'both';
  if (!['embedded', 'postgres', 'both'].includes(db)) throw new UsageError(`--db must be embedded, postgres or both`);
  return {
    scenarios: ids.filter((id) => wanted.includes(id)),
    dbs: db === 'both' ? ['postgres', 'embedded'] : [db as DbKind],
    json: flags.get('--json'),
    options: {
      durationS: number('--duration', quick ? 3 : 10, 1, 3600),
      warmupS: number('--warmup', quick ? 1 : 2, 0, 600),
      soakS: number('--soak', quick ? 30 : 600, 10, 24 * 3600),
      soakRate: flags.has('--rate') ? number('--rate', 0, 1, 100_000) : undefined,
      poolSize: number('--pool', 10, 1, 100),
      embeddedPoolSize: number('--embedded-pool', 1, 1, 100),
      pgAdminUrl: flags.get('--pg-url') ?? process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
    },
  };
}

const started = Date.now();
const log = (message: string): void => {
  process.stderr.write(`[bench +${((Date.now() - started) / 1000).toFixed(1)}s] ${message}\n`);
};

async function machine(args: CliArgs): Promise<string[]> {
  const cpu = cpus();
  const lines = [
    `node ${process.version}, ${cpu.length} CPU (${cpu[0]?.model ?? 'unknown'}), ` +
      `${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM (${(freemem() / 2 ** 30).toFixed(1)} GiB free)`,
    `load average at start: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
    `per step: ${args.options.warmupS} s warm-up + ${args.options.durationS} s measured; S6 ${args.options.soakS} s`,
    `database pools: PostgreSQL ${args.options.poolSize}, embedded ${args.options.embeddedPoolSize}`,
  ];
  if (args.dbs.includes('embedded') && args.options.embeddedPoolSize === 1) lines.push(EMBEDDED_POOL_NOTE);
  if (args.dbs.includes('postgres')) {
    lines.push(
      `PostgreSQL ${await serverVersion(args.options.pgAdminUrl)} at ${new URL(args.options.pgAdminUrl).host}`,
    );
  }
  return lines;
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  const options: BenchOptions = { ...args.options, root: repoRoot() };
  const scenarios = SCENARIOS.filter((s) => args.scenarios.includes(s.id));
  const plannedS = args.dbs.length * scenarios.reduce((sum, s) => sum + s.plannedSeconds(options) + 30, 0);
  // Every step is bounded on its own; this bounds the whole run if something still hangs.
  const limitS = Math.round(plannedS * 3 + 300);
  const watchdog = setTimeout(() => {
    log(`run exceeded ${limitS} s (planned ≈ ${plannedS} s): stopping`);
    void runCleanups().finally(() => process.exit(2));
  }, limitS * 1000);
  watchdog.unref();

  const header = await machine(args);
  for (const line of header) log(line);
  log(`planned ≈ ${Math.round(plannedS / 60)} min: ${args.scenarios.join(', ')} on ${args.dbs.join(', ')}`);

  const reports: ScenarioReport[] = [];
  for (const db of args.dbs) {
    const shared = new Map<string, number>();
    for (const scenario of scenarios) {
      const report: ScenarioReport = {
        id: scenario.id,
        title: scenario.title,
        db,
        headers: [],
        rows: [],
        verdicts: [],
        notes: [],
        data: {},
        seconds: 0,
      };
      const scenarioStarted = Date.now();
      const secret = newSecret();
      const context: ScenarioContext = {
        db,
        options,
        shared,
        log: (message) => log(`${db}: ${message}`),
        startStack: (spec) => startStack(db, options, secret, spec),
        measure: (load) => measureLoad({ durationS: options.durationS, warmupS: options.warmupS, ...load }),
      };
      log(`${db}: ${scenario.id} ${scenario.title}`);
      try {
        await scoped(() => scenario.run(context, report));
      } catch (error) {
        report.error = error instanceof Error ? error.message : String(error);
        log(`${db}: ${scenario.id} failed: ${report.error}`);
      }
      report.seconds = (Date.now() - scenarioStarted) / 1000;
      reports.push(report);
      process.stdout.write(`${formatReport(report)}\n`);
    }
  }

  const summary = reports.flatMap((report) =>
    report.verdicts.map((verdict) => [
      report.db,
      verdict.name,
      verdict.value.toFixed(2),
      `${verdict.kind === 'min' ? '≥' : '≤'} ${verdict.bound}`,
      report.db === 'postgres' ? (passes(verdict) ? 'PASS' : 'FAIL') : 'reported',
    ]),
  );
  process.stdout.write(`\n### Targets\n\n${formatTable(['db', 'target', 'value', 'bound', 'result'], summary)}\n`);
  const failed = reports.filter((r) => r.error);
  if (failed.length > 0) {
    process.stdout.write(`\nDid not complete: ${failed.map((r) => `${r.id} (${r.db})`).join(', ')}\n`);
  }
  process.stdout.write(
    `\n${header.map((line) => `- ${line}`).join('\n')}\n- load average at end: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}\n`,
  );
  if (args.json) {
    writeFileSync(args.json, JSON.stringify({ machine: header, options, reports }, null, 2));
    log(`wrote ${args.json}`);
  }
  return failed.length > 0 ? 1 : 0;
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    log(`${signal}: cleaning up`);
    void runCleanups().finally(() => process.exit(130));
  });
}

main()
  .then(async (code) => {
    await runCleanups();
    process.exit(code);
  })
  .catch(async (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    await runCleanups();
    process.exit(error instanceof UsageError ? 2 : 1);
  });
