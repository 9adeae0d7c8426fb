import { toolUseBlock } from '../../../test/support/fake-llm-client';
import { silentMetrics } from '../../../test/support/silent-metrics';
import { loadConfig } from '../../config/app-config';
import type { AgentEvent, AgentTurnInput } from '../agent-turn';
import type { McpClientRegistry } from '../mcp/mcp-client-registry';
import type { ToolCallContext, ToolCallOutcome, ToolList } from '../mcp/mcp.types';
import { CANCELLED_TOOL_RESULT } from '../turn-cancellation';
import { ToolCatalogue } from './tool-catalogue';
import { ToolRunner } from './tool-runner';

const TOOLS: ToolList = {
  version: '1',
  personal: false,
  tools: ['quick', 'stuck'].map((name) => ({ server: 'tasks', name, inputSchema: { type: 'object' } })),
};

/** `quick` answers at once; `stuck` never does, whatever its signal says. */
function setUp() {
  const contexts = new Map<string, ToolCallContext>();
  const registry = {
    toolsFor: () => TOOLS,
    callTool: (_server: string, tool: string, _args: unknown, context: ToolCallContext) => {
      contexts.set(tool, context);
      const done: ToolCallOutcome = { isError: false, text: `${tool} done`, durationMs: 1 };
      return tool === 'quick' ? Promise.resolve(done) : new Promise<never>(() => undefined);
    },
  } as unknown as McpClientRegistry;
  const config = loadConfig({ NODE_ENV: 'test', JWT_SECRET: 'x'.repeat(40) });
  const runner = new ToolRunner(new ToolCatalogue(registry), registry, silentMetrics(), config);
  return { runner, contexts };
}

function turn(cancel: AbortSignal, events: AgentEvent[]): AgentTurnInput {
  const signal = new AbortController().signal;
  return { userId: 'u1', token: 't', history: [], message: 'm', signal, cancel, onEvent: (e) => events.push(e) };
}

describe(ToolRunner.name, () => {
  it('abandons a hung call at once when the turn is cancelled, handing its MCP call the aborted signal', async () => {
    const { runner, contexts } = setUp();
    const cancel = new AbortController();
    const events: AgentEvent[] = [];
    const blocks = [toolUseBlock('quick', {}, 'toolu_quick'), toolUseBlock('stuck', {}, 'toolu_stuck')];

    const round = runner.runRound(blocks, turn(cancel.signal, events));
    await new Promise((resolve) => setTimeout(resolve, 5));
    cancel.abort();
    const { calls, results } = await round;

    expect(contexts.get('stuck')?.signal?.aborted).toBe(true);
    expect(calls).toEqual([
      expect.objectContaining({ id: 'toolu_quick', is_error: false, result: 'quick done' }),
      expect.objectContaining({ id: 'toolu_stuck', is_error: true, result: CANCELLED_TOOL_RESULT }),
    ]);
    expect(results.map((block) => [block.tool_use_id, block.is_error])).toEqual([
      ['toolu_quick', false],
      ['toolu_stuck', true],
    ]);
    expect(events.filter((event) => event.type === 'tool.finished')).toEqual([
      { type: 'tool.finished', id: 'toolu_quick', result: 'quick done', is_error: false },
      { type: 'tool.finished', id: 'toolu_stuck', result: CANCELLED_TOOL_RESULT, is_error: true },
    ]);
  });
});
