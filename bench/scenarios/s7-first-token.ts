import { checkSharedClock } from '../lib/clock';
import type { Child } from '../lib/children';
import type { PaceSpec } from '../lib/simulator-protocol';
import { turnTag } from '../lib/simulator-protocol';
import type { Scenario } from '../lib/stack';
import { targetOf } from '../lib/stack';
import { runStreams, type StreamLoadResult } from '../lib/stream-load';
import { benchUsers } from '../lib/tokens';
import { ms, num, sleep, spread, type Spread } from '../lib/util';
import { CHAT_MESSAGE, cycle, streamRequest } from './common';

const STREAMS = 16;
/**
 * The model opens its stream at once, writes its first text delta 25 ms later and three more 10 ms apart:
 * the first delta reaches a turn that is already waiting on the model, as a real first token does.
 */
const PACE: PaceSpec = { deltas: 4, firstDeltaMs: 25, intervalMs: 10 };
const SETTLE_MS = 500;

/**
 * S7 time to first token: 16 clients stream turns back to back (`POST /api/{u}/chat`, `Accept:
 * text/event-stream`, a new conversation each). For each turn, the time from the instant the simulator
 * wrote its first text delta to the instant the client had the first `text.delta` event, both on the
 * machine's monotonic clock (clock.ts): through the service, and through the floor, bare Fastify piping
 * the model's deltas to the client (baseline/server.ts). The target is what the service adds.
 */
export const s7FirstToken: Scenario = {
  id: 'S7',
  title: 'time to first token: 16 streams, service vs bare Fastify piping the model stream',
  plannedSeconds: (o) => 2 * (o.warmupS + o.durationS) + 5,
  async run(context, report) {
    const stack = await context.startStack({ tag: 's7', delayMs: 0, baseline: true, pace: PACE });
    const clockRoundTrip = await checkSharedClock('the simulator', () => stack.sim.clock());
    const users = benchUsers(stack.secret, 's7', STREAMS);
    const nextUser = cycle(users);
    let turns = 0;
    const request = () => {
      const tag = `s7-${++turns}`;
      return { ...streamRequest(nextUser(), { message: `${CHAT_MESSAGE} ${turnTag(tag)}` }), tag };
    };
    report.headers = [
      'target',
      'streams',
      'turns',
      'turns/s',
      'first token p50 ms',
      'p99 ms',
      'max ms',
      'from request p50 ms',
      'added p50 ms',
      'added p99 ms',
    ];
    const firstToken: Record<string, Spread> = {};
    for (const target of ['baseline', 'service'] as const) {
      const { url, child } = targetOf(stack, target);
      const label = `S7 ${target} × ${STREAMS}`;
      context.log(label);
      if (context.options.warmupS > 0) {
        const warmup = await runStreams({
          baseUrl: url,
          streams: STREAMS,
          durationS: context.options.warmupS,
          request,
        });
        assertStreamsClean(`${label} (warm-up)`, warmup, child);
        await sleep(SETTLE_MS);
      }
      await stack.sim.firstDeltas();
      const result = await runStreams({
        baseUrl: url,
        streams: STREAMS,
        durationS: context.options.durationS,
        request,
      });
      assertStreamsClean(label, result, child);
      const written = await stack.sim.firstDeltas();
      const latencies = result.turns.map((turn) => {
        const at = written.get(turn.tag);
        if (at === undefined) throw new Error(`${label}: the simulator kept no first delta for ${turn.tag}`);
        return turn.firstDeltaAt - at;
      });
      const ttft = (firstToken[target] = spread(latencies));
      const fromRequest = spread(result.turns.map((turn) => turn.firstDeltaAt - turn.sentAt));
      const floor = firstToken.baseline;
      report.rows.push([
        target === 'baseline' ? 'bare Fastify pipe' : 'service',
        String(STREAMS),
        String(ttft.count),
        num(ttft.count / result.durationS),
        ms(ttft.p50),
        ms(ttft.p99),
        ms(ttft.max),
        ms(fromRequest.p50),
        target === 'service' ? ms(ttft.p50 - floor.p50) : '–',
        target === 'service' ? ms(ttft.p99 - floor.p99) : '–',
      ]);
      report.data[target] = { firstToken: ttft, fromRequest, durationS: result.durationS };
      await sleep(SETTLE_MS);
    }
    const { service, baseline } = firstToken;
    report.verdicts.push(
      {
        name: `S7 first token p50, service − floor at ${STREAMS} streams (ms)`,
        value: service.p50 - baseline.p50,
        bound: 2,
        kind: 'max',
      },
      {
        name: `S7 first token p99, service − floor at ${STREAMS} streams (ms)`,
        value: service.p99 - baseline.p99,
        bound: 10,
        kind: 'max',
      },
    );
    report.notes.push(
      `first token = the client's receipt of the first text.delta − the simulator's write of the first ` +
        `content_block_delta (${PACE.firstDeltaMs} ms after the model's stream opened; ${PACE.deltas} deltas, ` +
        `${PACE.intervalMs} ms apart), both on CLOCK_MONOTONIC (process.hrtime), which every process of the ` +
        `machine shares: checked at the start, the simulator's reading fell inside the bench's ` +
        `${ms(clockRoundTrip)} ms IPC round trip`,
      'from request = the same receipt − the moment the client sent the POST (the turn before the model: ' +
        'auth, the stored message, the lease)',
    );
  },
};

function assertStreamsClean(label: string, result: StreamLoadResult, server: Child): void {
  if (result.failed === 0 && result.turns.length > 0) return;
  const tail = server.outputTail().trim().split('\n').slice(-6).join('\n');
  throw new Error(
    `${label}: ${result.turns.length} turns streamed, ${result.failed} failed` +
      `${result.failures.length > 0 ? `; e.g. ${result.failures.join(' | ')}` : ''}\n${server.name} log tail:\n${tail}`,
  );
}
