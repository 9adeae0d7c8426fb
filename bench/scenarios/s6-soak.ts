import { assertClean, type MemorySample, runLoad } from '../lib/load';
import type { Scenario } from '../lib/stack';
import { benchUsers } from '../lib/tokens';
import { MB, median, mb, ms, num, slope } from '../lib/util';
import { CHAT_MESSAGE, chatRequest, cycle } from './common';
import { s1ThroughputKey } from './s1-chat-turn';

const CONNECTIONS = 16;
const USERS = 16;
const CALIBRATION_S = 5;
const MAX_WARMUP_S = 60;
const WINDOWS = 6;
/** Heap after a full GC at the end over the same at the end of the warm-up. */
const HEAP_GROWTH_BOUND = 1.1;

/**
 * S6 soak: S1's turn at half of S1's throughput (a fixed rate) for --soak seconds; the service's RSS
 * and heap sampled throughout, and about twelve times a full GC is forced (the service runs with
 * --expose-gc; the heap probe collects, then reads) so retained memory is told from garbage not yet
 * collected. After the warm-up (a fifth of the run, at most 60 s), the heap after GC should not rise.
 */
export const s6Soak: Scenario = {
  id: 'S6',
  title: 'soak: half of S1 throughput, heap and RSS sampled',
  plannedSeconds: (o) => o.soakS + CALIBRATION_S + 20,
  async run(context, report) {
    const stack = await context.startStack({ tag: 's6', delayMs: 0, serviceNodeArgs: ['--expose-gc'] });
    const users = benchUsers(stack.secret, 's6', USERS);
    const nextUser = cycle(users);
    const request = (): ReturnType<typeof chatRequest> => chatRequest(nextUser(), { message: CHAT_MESSAGE });
    let full = context.shared.get(s1ThroughputKey(context.db));
    let source = 'S1 of this run at 16 clients';
    if (context.options.soakRate === undefined && full === undefined) {
      context.log(`S6 calibration: ${CALIBRATION_S} s at ${CONNECTIONS} clients`);
      const calibration = await runLoad({
        baseUrl: stack.service.url,
        connections: CONNECTIONS,
        durationS: CALIBRATION_S,
        request,
      });
      assertClean('S6 calibration', calibration, stack.service.child);
      full = calibration.rps;
      source = `a ${CALIBRATION_S} s calibration at 16 clients`;
    }
    const rate = Math.max(1, Math.round(context.options.soakRate ?? (full as number) / 2));
    if (context.options.soakRate !== undefined) source = '--rate';
    const durationS = context.options.soakS;
    const warmupS = Math.min(MAX_WARMUP_S, durationS / 5);
    const sampleEveryMs = Math.min(5_000, Math.max(1_000, (durationS * 1000) / 120));
    context.log(`S6 soak: ${rate} turns/s for ${durationS} s (rate from ${source})`);
    const gcEveryMs = Math.min(60_000, Math.max(5_000, (durationS * 1000) / 12));
    const collected: { t: number; heapUsed: number; rss: number }[] = [];
    const soakStarted = Date.now();
    const sampleAfterGc = async (): Promise<void> => {
      const usage = await stack.service.child.memory(true);
      if (usage?.collected) {
        collected.push({ t: (Date.now() - soakStarted) / 1000, heapUsed: usage.heapUsed, rss: usage.rss });
      }
    };
    const gcTimer = setInterval(() => void sampleAfterGc(), gcEveryMs);
    const result = await runLoad({
      baseUrl: stack.service.url,
      connections: CONNECTIONS,
      durationS,
      overallRate: rate,
      request,
      monitor: stack.service.measured,
      sampleEveryMs,
    }).finally(() => clearInterval(gcTimer));
    assertClean('S6 soak', result, stack.service.child);
    await sampleAfterGc();

    const after = result.samples.filter((s) => s.t >= warmupS);
    if (after.length < WINDOWS) throw new Error(`S6: only ${after.length} memory samples after the warm-up`);
    const windows = split(after, WINDOWS);
    report.headers = ['window s', 'RSS median MB', 'heap min–max MB', 'heap after full GC MB'];
    for (const window of windows) {
      const heaps = window.flatMap((s) => (s.heapUsed === undefined ? [] : [s.heapUsed]));
      const rss = window.flatMap((s) => (s.rss === undefined ? [] : [s.rss]));
      const from = window[0].t;
      const to = window[window.length - 1].t;
      const gcd = collected.filter((c) => c.t >= from && c.t <= to + sampleEveryMs / 1000);
      report.rows.push([
        `${num(from)}–${num(to)}`,
        mb(median(rss)),
        heaps.length > 0 ? `${mb(Math.min(...heaps))}–${mb(Math.max(...heaps))}` : '–',
        gcd.length > 0 ? gcd.map((c) => mb(c.heapUsed)).join(', ') : '–',
      ]);
    }
    const thirds = split(after, 3);
    const rssMedian = (part: MemorySample[]): number =>
      median(part.flatMap((s) => (s.rss === undefined ? [] : [s.rss])));
    const rssSeries = after.filter((s) => s.rss !== undefined);
    const rssSlope = slope(
      rssSeries.map((s) => s.t / 60),
      rssSeries.map((s) => (s.rss as number) / MB),
    );
    const gcAfter = collected.filter((c) => c.t >= warmupS);
    const gcSlope = slope(
      gcAfter.map((c) => c.t / 60),
      gcAfter.map((c) => c.heapUsed / MB),
    );
    report.notes.push(
      `${result.ok} turns at ${rate} turns/s (half of ${num(full ?? Number.NaN, 1)}, from ${source}) for ` +
        `${durationS} s, ${CONNECTIONS} connections; p50 ${ms(result.p50)} ms, p99 ${ms(result.p99)} ms ` +
        `(autocannon's p99 corrected for coordinated omission: ${result.correctedP99} ms)`,
      `warm-up: first ${num(warmupS)} s excluded; samples every ${num(sampleEveryMs / 1000, 1)} s, a forced full ` +
        `GC every ${num(gcEveryMs / 1000)} s and at the end; heap from ` +
        `${stack.service.measured.heapSource === 'metrics' ? 'GET /metrics' : 'the heap probe (process.memoryUsage over IPC)'}`,
      `after warm-up: heap after GC ${num(gcSlope, 2)} MB/min, RSS ${num(rssSlope, 2)} MB/min (least squares); ` +
        `RSS median first → last third: ${mb(rssMedian(thirds[0]))} → ${mb(rssMedian(thirds[2]))} MB`,
    );
    if (gcAfter.length >= 2) {
      const first = gcAfter[0];
      const last = gcAfter[gcAfter.length - 1];
      report.notes.push(
        `heap after full GC: ${mb(first.heapUsed)} MB at ${num(first.t)} s → ${mb(last.heapUsed)} MB at ` +
          `${num(last.t)} s (${num((last.heapUsed - first.heapUsed) / Math.max(1, result.ok) / 1024, 2)} KB per turn)`,
      );
      report.verdicts.push({
        name: 'S6 heap after full GC, end ÷ end of warm-up',
        value: last.heapUsed / first.heapUsed,
        bound: HEAP_GROWTH_BOUND,
        kind: 'max',
      });
    } else {
      report.notes.push('heap after GC could not be sampled twice after the warm-up: no verdict');
    }
    report.data = { rate, source, result, warmupS, collected };
  },
};

/** `parts` consecutive slices of nearly equal length (none empty when items.length ≥ parts). */
function split<T>(items: T[], parts: number): T[][] {
  const slices: T[][] = [];
  for (let i = 0; i < parts; i++) {
    const slice = items.slice(Math.round((i * items.length) / parts), Math.round(((i + 1) * items.length) / parts));
    if (slice.length > 0) slices.push(slice);
  }
  return slices;
}
