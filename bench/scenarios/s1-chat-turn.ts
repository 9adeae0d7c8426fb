import { assertClean, type LoadResult } from '../lib/load';
import type { Scenario } from '../lib/stack';
import { targetOf } from '../lib/stack';
import { benchUsers } from '../lib/tokens';
import { kb, ratio } from '../lib/util';
import { CHAT_MESSAGE, chatRequest, cycle, LOAD_HEADERS, loadCells, safeRatio } from './common';

const CONNECTIONS = [1, 16, 64];
const USERS = 64;

/** The key under which S1 leaves the service's turns/s at 16 clients for S6. */
export const s1ThroughputKey = (db: string): string => `S1:${db}:16`;

/**
 * S1 chat turn, text answer, model answering at once: each request starts a new conversation (so every
 * turn does the same work), from 64 users in turn. Service and baseline take turns at each level.
 */
export const s1ChatTurn: Scenario = {
  id: 'S1',
  title: 'chat turn, text answer, instant model: service vs bare Fastify + pg',
  plannedSeconds: (o) => CONNECTIONS.length * 2 * (o.warmupS + o.durationS),
  async run(context, report) {
    const stack = await context.startStack({ tag: 's1', delayMs: 0, baseline: true });
    const users = benchUsers(stack.secret, 's1', USERS);
    report.headers = [
      'target',
      'clients',
      ...LOAD_HEADERS.map((h) => h.replace('req/s', 'turns/s')),
      'KB to model',
      'turns/s vs baseline',
      'p50 vs baseline',
    ];
    const results: Record<string, LoadResult> = {};
    for (const connections of CONNECTIONS) {
      for (const target of ['baseline', 'service'] as const) {
        const { url, measured } = targetOf(stack, target);
        context.log(`S1 ${target} × ${connections}`);
        const nextUser = cycle(users);
        await stack.sim.reset();
        const result = await context.measure({
          baseUrl: url,
          connections,
          request: () => chatRequest(nextUser(), { message: CHAT_MESSAGE }),
          monitor: measured,
        });
        assertClean(`S1 ${target} × ${connections}`, result, targetOf(stack, target).child);
        const sim = await stack.sim.stats();
        results[`${target}:${connections}`] = result;
        const base = results[`baseline:${connections}`];
        report.rows.push([
          target,
          String(connections),
          ...loadCells(result),
          kb(sim.bytes / Math.max(1, sim.requests)),
          ratio(target === 'service' ? safeRatio(result.rps, base.rps) : 1),
          ratio(target === 'service' ? safeRatio(result.p50, base.p50) : 1),
        ]);
      }
    }
    context.shared.set(s1ThroughputKey(context.db), results['service:16'].rps);
    for (const connections of [16, 64]) {
      report.verdicts.push({
        name: `S1 turns/s ÷ baseline at ${connections} clients`,
        value: safeRatio(results[`service:${connections}`].rps, results[`baseline:${connections}`].rps),
        bound: 0.6,
        kind: 'min',
      });
    }
    report.verdicts.push({
      name: 'S1 p50 ÷ baseline p50 at 1 client',
      value: safeRatio(results['service:1'].p50, results['baseline:1'].p50),
      bound: 1.5,
      kind: 'max',
    });
    report.data = { results };
  },
};
