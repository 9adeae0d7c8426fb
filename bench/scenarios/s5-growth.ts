import { assertClean, type GeneratedRequest, type LoadResult, runLoad } from '../lib/load';
import { seedConversations } from '../lib/seed';
import type { Scenario } from '../lib/stack';
import { benchUsers } from '../lib/tokens';
import { kb, ms, num, ratio } from '../lib/util';
import { CHAT_MESSAGE, chatRequest, cycle, safeRatio } from './common';

const SIZES = [10, 1_000, 10_000];
/** Turns each seeded conversation takes (each adds 2 messages): small against its size, so N stays N. */
const TURNS_PER_CONVERSATION: Record<number, number> = { 10: 1, 1_000: 4, 10_000: 20 };
const WARMUP_TURNS = 10;
const USER_CHARS = 150;
const ASSISTANT_CHARS = 600;

/** Measured turns per size: ten per second of --duration, at least 30. */
const turnsFor = (durationS: number): number => Math.max(30, Math.round(10 * durationS));

/**
 * S5 growth: one client sends turns to conversations that already hold 10, 1,000 or 10,000 messages
 * (user 150 / assistant 600 characters, seeded in SQL). Server time per turn and the bytes the service
 * sends to the model should stop growing once the context window is full. Server time is a turn's mean
 * latency less the time the simulator held its exchange (receiving, parsing and answering the request):
 * a model reading a longer context is the model's time, not the service's.
 */
export const s5Growth: Scenario = {
  id: 'S5',
  title: 'growth: a turn in a conversation of 10 / 1,000 / 10,000 prior messages',
  plannedSeconds: (o) => SIZES.length * (turnsFor(o.durationS) / 10 + 20),
  async run(context, report) {
    const stack = await context.startStack({ tag: 's5', delayMs: 0 });
    const [user] = benchUsers(stack.secret, 's5', 1);
    const turns = turnsFor(context.options.durationS);
    report.headers = [
      'prior messages',
      'turns',
      'p50 ms',
      'p99 ms',
      'model ms/turn',
      'server ms/turn',
      'turns/s',
      'KB to model/turn',
      'messages to model',
      'peak RSS MB',
      'p50 vs 10',
      'server vs 10',
    ];
    const results: Record<number, LoadResult> = {};
    const serverMs: Record<number, number> = {};
    for (const size of SIZES) {
      const perConversation = TURNS_PER_CONVERSATION[size];
      const count = Math.ceil(turns / perConversation);
      const warmupCount = Math.ceil(WARMUP_TURNS / perConversation);
      const started = Date.now();
      const seeded = await seedConversations(stack.sql(), {
        userIds: [user.userId],
        perUser: count + warmupCount,
        messages: size,
        userChars: USER_CHARS,
        assistantChars: ASSISTANT_CHARS,
      });
      context.log(`S5 seeded ${seeded.length} × ${size} messages in ${Date.now() - started} ms`);
      const generator = (ids: string[]): (() => GeneratedRequest) => {
        const next = cycle(ids);
        return () => chatRequest(user, { message: CHAT_MESSAGE, conversation_id: next() });
      };
      const warmupIds = seeded.slice(count).map((c) => c.id);
      const measuredIds = seeded.slice(0, count).map((c) => c.id);
      context.log(`S5 ${size} (${turns} turns over ${count} conversations)`);
      assertClean(
        `S5 ${size} warm-up`,
        await runLoad({
          baseUrl: stack.service.url,
          connections: 1,
          durationS: 60,
          amount: WARMUP_TURNS,
          request: generator(warmupIds),
        }),
        stack.service.child,
      );
      await stack.sim.reset();
      const result = await runLoad({
        baseUrl: stack.service.url,
        connections: 1,
        durationS: 600,
        amount: turns,
        request: generator(measuredIds),
        monitor: stack.service.measured,
      });
      assertClean(`S5 ${size}`, result, stack.service.child);
      const sim = await stack.sim.stats();
      results[size] = result;
      const modelMs = sim.modelMs / Math.max(1, sim.requests);
      serverMs[size] = result.mean - modelMs;
      report.rows.push([
        size.toLocaleString('en-US'),
        String(result.ok),
        ms(result.p50),
        ms(result.p99),
        ms(modelMs),
        ms(serverMs[size]),
        num(result.rps, 1),
        kb(sim.bytes / Math.max(1, sim.requests)),
        num(sim.messages / Math.max(1, sim.requests), 0),
        num((result.peakRss ?? Number.NaN) / 1024 / 1024),
        ratio(safeRatio(result.p50, results[SIZES[0]].p50)),
        ratio(safeRatio(serverMs[size], serverMs[SIZES[0]])),
      ]);
      report.data[`bytes:${size}`] = sim.bytes / Math.max(1, sim.requests);
    }
    const [small, middle, large] = SIZES;
    report.verdicts.push({
      name: `S5 server ms/turn at ${large.toLocaleString('en-US')} ÷ at ${small} prior messages`,
      value: safeRatio(serverMs[large], serverMs[small]),
      bound: 1.5,
      kind: 'max',
    });
    report.notes.push(
      `end-to-end p50 at ${large.toLocaleString('en-US')} ÷ at ${small} = ` +
        `${ratio(safeRatio(results[large].p50, results[small].p50))} (the model's share included)`,
      `p50 at ${large.toLocaleString('en-US')} ÷ p50 at ${middle.toLocaleString('en-US')} = ` +
        `${ratio(safeRatio(results[large].p50, results[middle].p50))}: growth once the context window is full ` +
        `(the service reads at most 400 rows and windows them to CHAT_CONTEXT_TOKEN_BUDGET)`,
    );
    report.data.results = results;
    report.data.serverMs = serverMs;
  },
};
