import type { Child } from '../lib/children';
import { checkSharedClock } from '../lib/clock';
import { cpuMeter } from '../lib/cpu';
import type { PaceSpec } from '../lib/simulator-protocol';
import { turnTag } from '../lib/simulator-protocol';
import type { Scenario, Stack, Target } from '../lib/stack';
import { targetOf } from '../lib/stack';
import { runStreams, type StreamLoadResult } from '../lib/stream-load';
import { type BenchUser, benchUsers } from '../lib/tokens';
import { ms, num, sleep, spread } from '../lib/util';
import { CHAT_MESSAGE, cycle, PRIME_S, streamRequest } from './common';

const STREAMS = 16;
const SETTLE_MS = 500;
/** Floor, service, service, floor: a drift of the machine over the runs weighs on both alike; samples pooled. */
const ORDER: Target[] = ['baseline', 'service', 'service', 'baseline'];

interface Load {
  name: string;
  pace: PaceSpec;
  /** Measured for this many times --duration (a slow turn gives fewer samples a second). */
  durationFactor: number;
  /** Spread the clients' first requests over one turn, so that their deltas do not arrive in step. */
  staggerMs: number;
}

/**
 * Two ways for 16 streams to be open at once. Model-paced: the model takes 100 ms to its first token and
 * writes 10 deltas 20 ms apart, as a real one does, so the servers have time to spare and the figure is the
 * delta's path through each. Back to back: the first delta 25 ms after the stream opens and 3 more 10 ms
 * apart, each client starting its next turn at once: both servers are CPU-bound, and the figure includes
 * the wait behind the other turns' work, which grows with the CPU a turn costs.
 */
const LOADS: Load[] = [
  { name: 'model-paced', pace: { deltas: 10, firstDeltaMs: 100, intervalMs: 20 }, durationFactor: 2, staggerMs: 20 },
  { name: 'back to back', pace: { deltas: 4, firstDeltaMs: 25, intervalMs: 10 }, durationFactor: 1, staggerMs: 0 },
];

/**
 * S7 time to first token: 16 clients stream turns (`POST /api/{u}/chat`, `Accept: text/event-stream`, a new
 * conversation each). For each turn, the time from the instant the simulator wrote its first text delta to
 * the instant the client had the first `text.delta` event, both on the machine's monotonic clock (clock.ts):
 * through the service, and through the floor, bare Fastify piping the model's deltas to the client
 * (baseline/server.ts). The target is what the service adds.
 */
export const s7FirstToken: Scenario = {
  id: 'S7',
  title: 'time to first token: 16 streams, service vs bare Fastify piping the model stream',
  plannedSeconds: (o) =>
    LOADS.reduce((sum, load) => sum + ORDER.length * (o.warmupS + load.durationFactor * o.durationS + 1), 2 * PRIME_S),
  async run(context, report) {
    const stack = await context.startStack({ tag: 's7', delayMs: 0, baseline: true });
    const clockRoundTrip = await checkSharedClock('the simulator', () => stack.sim.clock());
    const users = benchUsers(stack.secret, 's7', STREAMS);
    report.headers = [
      'streams',
      'target',
      'turns',
      'turns/s',
      'first token p50 ms',
      'p99 ms',
      'max ms',
      'from request p50 ms',
      'added p50 ms',
      'added p99 ms',
      'CPU ms/turn',
      'db CPU ms/turn',
    ];
    for (const target of ['baseline', 'service'] as const) {
      context.log(`S7 priming ${target} for ${PRIME_S} s`);
      await stack.sim.setPace(LOADS[1].pace);
      await measureFirstToken(stack, target, users, LOADS[1], {
        label: `S7 priming ${target}`,
        warmupS: 0,
        durationS: PRIME_S,
      });
    }
    for (const load of LOADS) {
      await stack.sim.setPace(load.pace);
      const runs: Record<Target, FirstTokenRun[]> = { baseline: [], service: [] };
      for (const [i, target] of ORDER.entries()) {
        const label = `S7 ${load.name} ${target} × ${STREAMS} (${i + 1}/${ORDER.length})`;
        context.log(label);
        runs[target].push(
          await measureFirstToken(stack, target, users, load, {
            label,
            warmupS: context.options.warmupS,
            durationS: load.durationFactor * context.options.durationS,
          }),
        );
      }
      const pooled = (target: Target) => ({
        ttft: spread(runs[target].flatMap((run) => run.ttft)),
        fromRequest: spread(runs[target].flatMap((run) => run.fromRequest)),
        turnsPerS: mean(runs[target].map((run) => run.turnsPerS)),
        cpuMs: mean(runs[target].map((run) => run.cpuMs)),
        dbCpuMs: mean(runs[target].map((run) => run.dbCpuMs)),
      });
      const floor = pooled('baseline');
      const service = pooled('service');
      for (const [target, { ttft, fromRequest, turnsPerS, cpuMs, dbCpuMs }] of [
        ['baseline', floor],
        ['service', service],
      ] as const) {
        report.rows.push([
          `${STREAMS} ${load.name}`,
          target === 'baseline' ? 'bare Fastify pipe' : 'service',
          String(ttft.count),
          num(turnsPerS),
          ms(ttft.p50),
          ms(ttft.p99),
          ms(ttft.max),
          ms(fromRequest.p50),
          target === 'service' ? ms(ttft.p50 - floor.ttft.p50) : '–',
          target === 'service' ? ms(ttft.p99 - floor.ttft.p99) : '–',
          ms(cpuMs),
          ms(dbCpuMs),
        ]);
        report.data[`${load.name}:${target}`] = { firstToken: ttft, fromRequest, turnsPerS, cpuMs, dbCpuMs };
      }
      report.verdicts.push(
        {
          name: `S7 first token p50, service − floor, ${STREAMS} ${load.name} streams (ms)`,
          value: service.ttft.p50 - floor.ttft.p50,
          bound: 2,
          kind: 'max',
        },
        {
          name: `S7 first token p99, service − floor, ${STREAMS} ${load.name} streams (ms)`,
          value: service.ttft.p99 - floor.ttft.p99,
          bound: 10,
          kind: 'max',
        },
      );
    }
    report.notes.push(
      'first token = the client’s receipt of the first text.delta − the simulator’s write of the first ' +
        'content_block_delta, both on CLOCK_MONOTONIC (process.hrtime), which every process of the machine ' +
        `shares: checked at the start, the simulator’s reading fell inside the bench’s ${ms(clockRoundTrip)} ms ` +
        'IPC round trip',
      ...LOADS.map(
        (load) =>
          `${load.name}: the model’s first delta ${load.pace.firstDeltaMs} ms after its stream opened, ` +
          `${load.pace.deltas} deltas ${load.pace.intervalMs} ms apart` +
          (load.staggerMs > 0 ? `; client i starts ${load.staggerMs}·i ms late` : '; no pause between turns'),
      ),
      `each row pools two runs, measured floor, service, service, floor, after ${PRIME_S} s of back-to-back ` +
        'turns on each (not measured)',
      'CPU ms/turn: user + system CPU (/proc) of the server process, and of the database backends, over the ' +
        'measured runs, per turn',
      'from request = the same receipt − the moment the client sent the POST (the turn before the model: auth, ' +
        'the stored message, the lease, the model call)',
    );
  },
};

interface FirstTokenRun {
  /** Per turn, ms. */
  ttft: number[];
  fromRequest: number[];
  turnsPerS: number;
  /** CPU of the server, and of its database backends, per turn. */
  cpuMs: number;
  dbCpuMs: number;
}

const mean = (values: number[]): number => values.reduce((a, b) => a + b, 0) / values.length;

/** A warm-up, then the measured run: every turn's first token matched with the simulator's instant. */
async function measureFirstToken(
  stack: Stack,
  target: Target,
  users: BenchUser[],
  load: Load,
  run: { label: string; warmupS: number; durationS: number },
): Promise<FirstTokenRun> {
  const { url, child } = targetOf(stack, target);
  const nextUser = cycle(users);
  let turns = 0;
  const request = () => {
    const tag = `s7-${target}-${++turns}`;
    return { ...streamRequest(nextUser(), { message: `${CHAT_MESSAGE} ${turnTag(tag)}` }), tag };
  };
  const streams = { baseUrl: url, streams: STREAMS, staggerMs: load.staggerMs, request };
  if (run.warmupS > 0) {
    assertStreamsClean(`${run.label} (warm-up)`, await runStreams({ ...streams, durationS: run.warmupS }), child);
    await sleep(SETTLE_MS);
  }
  await stack.sim.firstDeltas();
  const meter = await cpuMeter(child.pid, stack.db.kind === 'postgres' ? stack.sql() : undefined);
  const result = await runStreams({ ...streams, durationS: run.durationS });
  const cpu = await meter();
  assertStreamsClean(run.label, result, child);
  const written = await stack.sim.firstDeltas();
  const latencies = result.turns.map((turn) => {
    const at = written.get(turn.tag);
    if (at === undefined) throw new Error(`${run.label}: the simulator kept no first delta for ${turn.tag}`);
    return turn.firstDeltaAt - at;
  });
  await sleep(SETTLE_MS);
  return {
    ttft: latencies,
    fromRequest: result.turns.map((turn) => turn.firstDeltaAt - turn.sentAt),
    turnsPerS: result.turns.length / result.durationS,
    cpuMs: cpu.serverMs / result.turns.length,
    dbCpuMs: cpu.dbMs / result.turns.length,
  };
}

function assertStreamsClean(label: string, result: StreamLoadResult, server: Child): void {
  if (result.failed === 0 && result.turns.length > 0) return;
  const tail = server.outputTail().trim().split('\n').slice(-6).join('\n');
  throw new Error(
    `${label}: ${result.turns.length} turns streamed, ${result.failed} failed` +
      `${result.failures.length > 0 ? `; e.g. ${result.failures.join(' | ')}` : ''}\n${server.name} log tail:\n${tail}`,
  );
}
