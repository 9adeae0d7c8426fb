import { assertClean, type LoadResult } from '../lib/load';
import { TOOL_TRIGGER } from '../lib/simulator-protocol';
import type { Scenario } from '../lib/stack';
import { benchUsers } from '../lib/tokens';
import { num, ratio } from '../lib/util';
import { CHAT_MESSAGE, chatRequest, cycle, LOAD_HEADERS, loadCells, safeRatio } from './common';

const CONNECTIONS = [1, 16];
const USERS = 16;
const TOOL = 'add_task';
const TOOL_MESSAGE = `Please ${TOOL_TRIGGER} to buy milk.`;

/**
 * S2 chat turn with one tool call: the model asks for `add_task` of the built-in tasks server, the
 * service runs it (in-memory MCP, a row in `tasks`), calls the model again with the result, stores the
 * turn. Measured beside a text turn on the same service, so the ratio is the cost of the tool round.
 */
export const s2ToolCall: Scenario = {
  id: 'S2',
  title: 'chat turn with one tool call (built-in tasks server)',
  plannedSeconds: (o) => CONNECTIONS.length * 2 * (o.warmupS + o.durationS),
  async run(context, report) {
    const stack = await context.startStack({ tag: 's2', delayMs: 0, tool: TOOL });
    const users = benchUsers(stack.secret, 's2', USERS);
    const probe = await fetch(`${stack.service.url}/api/${users[0].userId}/chat`, {
      method: 'POST',
      headers: { authorization: users[0].authorization, 'content-type': 'application/json' },
      body: JSON.stringify({ message: TOOL_MESSAGE }),
      signal: AbortSignal.timeout(30_000),
    });
    const answer = (await probe.json()) as { tool_calls?: { tool?: string; is_error?: boolean }[] };
    const offered = (await stack.sim.stats()).lastTools;
    const call = answer.tool_calls?.[0];
    if (probe.status !== 200 || !call || call.is_error) {
      throw new Error(
        `no working ${TOOL} tool: POST chat answered ${probe.status} with tool_calls ${JSON.stringify(answer.tool_calls)}; ` +
          `tools offered to the model: [${offered.join(', ')}]`,
      );
    }
    report.headers = [
      'turn',
      'clients',
      ...LOAD_HEADERS.map((h) => h.replace('req/s', 'turns/s')),
      'model calls/turn',
      'p50 vs text',
      'turns/s vs text',
    ];
    const results: Record<string, LoadResult> = {};
    for (const connections of CONNECTIONS) {
      for (const kind of ['text', 'tool'] as const) {
        context.log(`S2 ${kind} × ${connections}`);
        const nextUser = cycle(users);
        const message = kind === 'tool' ? TOOL_MESSAGE : CHAT_MESSAGE;
        await stack.sim.reset();
        const result = await context.measure({
          baseUrl: stack.service.url,
          connections,
          request: () => chatRequest(nextUser(), { message }),
          monitor: stack.service.measured,
        });
        assertClean(`S2 ${kind} × ${connections}`, result, stack.service.child);
        const sim = await stack.sim.stats();
        results[`${kind}:${connections}`] = result;
        const text = results[`text:${connections}`];
        // Calls per turn over warm-up and measured run together (the simulator counts both).
        const callsPerTurn = kind === 'tool' ? (sim.requests / Math.max(1, sim.toolUses)).toFixed(2) : '1';
        report.rows.push([
          kind === 'tool' ? `tool (${call.tool})` : 'text',
          String(connections),
          ...loadCells(result),
          callsPerTurn,
          ratio(safeRatio(result.p50, text.p50)),
          ratio(safeRatio(result.rps, text.rps)),
        ]);
      }
    }
    report.notes.push(
      `tool turn = 2 model calls + 1 MCP call (in-memory transport) + the tasks INSERT; ` +
        `p50 tool − text at 1 client = ${num(results['tool:1'].p50 - results['text:1'].p50, 2)} ms`,
    );
    report.data = { results };
  },
};
