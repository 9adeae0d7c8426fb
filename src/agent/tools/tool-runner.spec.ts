import { toolUseBlock } from '../../../test/support/fake-llm-client';
import { silentMetrics } from '../../../test/support/silent-metrics';
import { loadConfig } from '../../config/app-config';
import type { AgentEvent, AgentTurnInput } from '../agent-turn';
import { ApprovalPolicy } from '../mcp/approval-policy';
import type { McpClientRegistry } from '../mcp/mcp-client-registry';
import type { ApprovalRequirement } from '../mcp/mcp-server-definition';
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
function setUp(options: { env?: Record<string, string>; requireApproval?: ApprovalRequirement } = {}) {
  const contexts = new Map<string, ToolCallContext>();
  const registry = {
    toolsFor: () => TOOLS,
    callTool: (_server: string, tool: string, _args: unknown, context: ToolCallContext) => {
      contexts.set(tool, context);
      const done: ToolCallOutcome = { isError: false, text: `${tool} done`, durationMs: 1 };
      return tool === 'quick' ? Promise.resolve(done) : new Promise<never>(() => undefined);
    },
  } as unknown as McpClientRegistry;
  const config = loadConfig({ NODE_ENV: 'test', JWT_SECRET: 'x'.repeat(40), ...options.env });
  const policy = new ApprovalPolicy([{ name: 'tasks', requireApproval: options.requireApproval }]);
  const runner = new ToolRunner(new ToolCatalogue(registry), registry, silentMetrics(), config, policy);
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

  it('asks approval only for the calls of a round that would run: past the per-round maximum, none', () => {
    const { runner } = setUp({ env: { CHAT_MAX_TOOL_CALLS_PER_ROUND: '1' }, requireApproval: 'always' });
    const blocks = [toolUseBlock('quick', { n: 1 }, 'toolu_1'), toolUseBlock('quick', { n: 2 }, 'toolu_2')];

    expect(runner.plan(blocks, 'u1')).toEqual([
      { id: 'toolu_1', tool: 'quick', server: 'tasks', arguments: { n: 1 }, needsApproval: true },
      { id: 'toolu_2', tool: 'quick', server: 'tasks', arguments: { n: 2 }, needsApproval: false },
    ]);
  });

  it('refuses to run a round in which a call that needs approval has no decision, running none of it', async () => {
    const { runner, contexts } = setUp({ requireApproval: { tools: ['stuck'] } });
    const blocks = [toolUseBlock('quick', {}, 'toolu_quick'), toolUseBlock('stuck', {}, 'toolu_stuck')];

    await expect(runner.runRound(blocks, turn(new AbortController().signal, []))).rejects.toThrow(
      'No decision for tool calls that need approval: toolu_stuck',
    );
    expect(contexts.size).toBe(0);
  });

  it('refuses decisions for calls that are not in the round', async () => {
    const { runner, contexts } = setUp();
    const blocks = [toolUseBlock('quick', {}, 'toolu_quick')];

    await expect(
      runner.runRound(blocks, turn(new AbortController().signal, []), { toolu_other: { approved: true } }),
    ).rejects.toThrow('Decisions for tool calls not in this round: toolu_other');
    expect(contexts.size).toBe(0);
  });
});
