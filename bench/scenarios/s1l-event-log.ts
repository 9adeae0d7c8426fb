import type { Pool } from 'pg';
import { cpuMeter } from '../lib/cpu';
import { settledStats, turnEventRows } from '../lib/db-writes';
import { buildAtCommit } from '../lib/git-build';
import { assertClean, type LoadResult, type RequestSpec, runLoad } from '../lib/load';
import type { Scenario, Stack } from '../lib/stack';
import { benchUsers } from '../lib/tokens';
import { ms, num, ratio } from '../lib/util';
import { CHAT_MESSAGE, chatRequest, cycle, LOAD_HEADERS, loadCells, PRIME_S, safeRatio } from './common';

/** main before issue 12 (durable turns): the service without an event log. */
export const BEFORE_EVENT_LOG = '9aefb19';
const CLIENTS = 16;
const USERS = 64;
/** A-B-B-A, so that a drift of the machine over the runs weighs on both sides alike. */
const ORDER = ['without', 'with', 'with', 'without'] as const;
type Side = (typeof ORDER)[number];
const BOUND = 0.9;

/**
 * S1L: S1's turn at 16 clients, on this build (with the event log) and on the build of BEFORE_EVENT_LOG (no
 * log), each on a fresh database of its own, both primed, then measured in turn in the same run: persisting a
 * turn's events must not cost it its throughput.
 */
export const s1lEventLog: Scenario = {
  id: 'S1L',
  title: `S1 with the event log vs without it (the build of ${BEFORE_EVENT_LOG}), 16 clients`,
  plannedSeconds: (o) => 2 * PRIME_S + ORDER.length * (o.warmupS + o.durationS) + 120,
  async run(context, report) {
    context.log(`S1L building ${BEFORE_EVENT_LOG} in a temporary worktree`);
    const beforeRoot = await buildAtCommit(context.options.root, BEFORE_EVENT_LOG);
    const stacks: Record<Side, Stack> = {
      with: await context.startStack({ tag: 's1l_with', delayMs: 0 }),
      without: await context.startStack({ tag: 's1l_without', delayMs: 0, serviceRoot: beforeRoot }),
    };
    report.headers = [
      'service',
      'run',
      'clients',
      ...LOAD_HEADERS.map((h) => h.replace('req/s', 'turns/s')),
      'service CPU ms/turn',
      'database CPU ms/turn',
    ];
    for (const side of ['without', 'with'] as const) {
      context.log(`S1L priming ${side} the event log for ${PRIME_S} s`);
      const stack = stacks[side];
      const request = s1Turns(stack);
      const primed = await runLoad({ baseUrl: stack.service.url, connections: CLIENTS, durationS: PRIME_S, request });
      assertClean(`S1L priming ${side}`, primed, stack.service.child);
    }
    const runs: Record<Side, LoadResult[]> = { with: [], without: [] };
    const cpuPerTurn: Record<Side, { service: number; db: number }[]> = { with: [], without: [] };
    for (const [i, side] of ORDER.entries()) {
      const stack = stacks[side];
      const request = s1Turns(stack);
      context.log(`S1L ${side} the event log × ${CLIENTS} (${i + 1}/${ORDER.length})`);
      let meter: Awaited<ReturnType<typeof cpuMeter>> | undefined;
      const result = await context.measure({
        baseUrl: stack.service.url,
        connections: CLIENTS,
        request,
        monitor: stack.service.measured,
        beforeRun: async (phase) => {
          if (phase !== 'measured') return;
          meter = await cpuMeter(stack.service.child.pid, context.db === 'postgres' ? stack.sql() : undefined);
        },
      });
      assertClean(`S1L ${side} × ${CLIENTS}`, result, stack.service.child);
      const cpu = await meter!();
      runs[side].push(result);
      cpuPerTurn[side].push({ service: cpu.serverMs / result.ok, db: cpu.dbMs / result.ok });
      report.rows.push([
        label(side),
        String(i + 1),
        String(CLIENTS),
        ...loadCells(result),
        ms(cpu.serverMs / result.ok),
        ms(cpu.dbMs / result.ok),
      ]);
    }
    const mean = (side: Side): number => runs[side].reduce((sum, r) => sum + r.rps, 0) / runs[side].length;
    const value = safeRatio(mean('with'), mean('without'));
    report.verdicts.push({
      name: `S1L turns/s with ÷ without the event log at ${CLIENTS} clients`,
      value,
      bound: BOUND,
      kind: 'min',
    });
    const meanCpu = (side: Side, of: 'service' | 'db'): number =>
      cpuPerTurn[side].reduce((sum, c) => sum + c[of], 0) / cpuPerTurn[side].length;
    report.notes.push(
      `mean turns/s: with ${num(mean('with'))}, without ${num(mean('without'))} (${ratio(value)})`,
      `CPU per turn (user + system, /proc): the service ${ms(meanCpu('with', 'service'))} ms with the log, ` +
        `${ms(meanCpu('without', 'service'))} ms without (${ratio(safeRatio(meanCpu('with', 'service'), meanCpu('without', 'service')))}); ` +
        `its database backends ${ms(meanCpu('with', 'db'))} ms with, ${ms(meanCpu('without', 'db'))} ms without ` +
        `(${ratio(safeRatio(meanCpu('with', 'db'), meanCpu('without', 'db')))}). Other work on the machine lowers ` +
        'turns/s far more than it moves these',
    );
    if (context.db === 'postgres') {
      const cost = await Promise.all(ORDER.slice(0, 2).map((side) => perTurnCost(stacks[side].sql())));
      for (const [i, side] of ORDER.slice(0, 2).entries()) {
        report.notes.push(
          `${label(side)}: ${num(cost[i].eventsPerTurn, 1)} turn_events rows, ${num(cost[i].rowsPerTurn, 1)} rows ` +
            `written and ${num(cost[i].commitsPerTurn, 1)} commits per turn (pg_stat_database, every turn of the runs)`,
        );
      }
    }
    report.data = { runs, ref: BEFORE_EVENT_LOG };
  },
};

/** S1's request: a new conversation per turn, from 64 users in turn. */
function s1Turns(stack: Stack): () => RequestSpec {
  const nextUser = cycle(benchUsers(stack.secret, 's1l', USERS));
  return () => chatRequest(nextUser(), { message: CHAT_MESSAGE });
}

const label = (side: Side): string => (side === 'with' ? 'with the event log' : `without (${BEFORE_EVENT_LOG})`);

/** Per turn of every run so far (warm-ups included): the event log's rows, rows written, commits. */
async function perTurnCost(
  pool: Pool,
): Promise<{ eventsPerTurn: number; rowsPerTurn: number; commitsPerTurn: number }> {
  const { rows } = await pool.query<{ turns: number }>(
    `SELECT count(*)::int AS turns FROM messages WHERE role = 'user'`,
  );
  const { turns } = rows[0];
  const [events, stats] = await Promise.all([turnEventRows(pool), settledStats(pool)]);
  return {
    eventsPerTurn: (events ?? 0) / turns,
    rowsPerTurn: stats.rowsWritten / turns,
    commitsPerTurn: stats.commits / turns,
  };
}
