import { assertClean, type LoadResult } from '../lib/load';
import type { Scenario } from '../lib/stack';
import { targetOf } from '../lib/stack';
import { benchUsers } from '../lib/tokens';
import { ratio } from '../lib/util';
import { getRequest, LOAD_HEADERS, loadCells, safeRatio } from './common';

const CONNECTIONS = [1, 16];
const PATH = '/tools';

/**
 * S0 framework floor: a trivial authenticated route, in the service and in bare Fastify with the same
 * JWT check, answering the same body. The ratio of their throughputs is what the framework (Nest,
 * guards, pipes, filters, hooks) costs per request.
 */
export const s0FrameworkFloor: Scenario = {
  id: 'S0',
  title: 'framework floor: a trivial authenticated route, service vs bare Fastify',
  plannedSeconds: (o) => CONNECTIONS.length * 2 * (o.warmupS + o.durationS),
  async run(context, report) {
    const stack = await context.startStack({ tag: 's0', delayMs: 0, baseline: true });
    const [user] = benchUsers(stack.secret, 's0', 1);
    report.headers = ['target', 'route', 'clients', ...LOAD_HEADERS, 'req/s vs bare'];
    const results: Record<string, LoadResult> = {};
    for (const connections of CONNECTIONS) {
      for (const target of ['baseline', 'service'] as const) {
        const { url, measured } = targetOf(stack, target);
        context.log(`S0 ${target} ${PATH} × ${connections}`);
        const linesBefore = stack.service.child.lineCount();
        const result = await context.measure({
          baseUrl: url,
          connections,
          request: getRequest(user, PATH),
          monitor: measured,
        });
        assertClean(`S0 ${target} × ${connections}`, result, targetOf(stack, target).child);
        results[`${target}:${connections}`] = result;
        const logLines = stack.service.child.lineCount() - linesBefore;
        if (target === 'service' && logLines > 0) {
          report.notes.push(
            `the service printed ${logLines} log lines during ${result.ok} requests (× ${connections})`,
          );
        }
        const vsBare = target === 'service' ? safeRatio(result.rps, results[`baseline:${connections}`]?.rps) : 1;
        report.rows.push([
          target === 'baseline' ? 'bare Fastify' : 'service',
          PATH,
          String(connections),
          ...loadCells(result),
          ratio(vsBare),
        ]);
      }
    }
    const top = CONNECTIONS[CONNECTIONS.length - 1];
    report.verdicts.push({
      name: `S0 service req/s ÷ bare Fastify at ${top} clients`,
      value: safeRatio(results[`service:${top}`].rps, results[`baseline:${top}`].rps),
      bound: 0.8,
      kind: 'min',
    });
    report.data = { path: PATH, results };
  },
};
