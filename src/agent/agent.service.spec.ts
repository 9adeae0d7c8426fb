import type Anthropic from '@anthropic-ai/sdk';
import {
  FakeLlmClient,
  modelMessage,
  serverToolUseBlock,
  textAnswer,
  textBlock,
  toolUseAnswer,
  toolUseBlock,
} from '../../test/support/fake-llm-client';
import { silentMetrics } from '../../test/support/silent-metrics';
import { loadConfig } from '../config/app-config';
import { TOOL_ROUND_LIMIT_STOP_REASON, type AgentTurnInput, type ContextMessage } from './agent-turn';
import { AgentService } from './agent.service';
import type { LlmRequest } from './llm/llm-client';
import type { McpClientRegistry } from './mcp/mcp-client-registry';
import type { ToolCallContext, ToolCallOutcome, ToolList } from './mcp/mcp.types';
import { ToolCatalogue } from './tools/tool-catalogue';
import { ToolRunner } from './tools/tool-runner';

type MessageParam = Anthropic.Messages.MessageParam;
type ToolCallHandler = (tool: string, args: Record<string, unknown>) => ToolCallOutcome;

const USER = 'user-1';
const MAX_CACHE_BREAKPOINTS = 4;
const TOOLS: ToolList = {
  version: '1',
  personal: false,
  tools: [
    { server: 'tasks', name: 'add_task', description: 'Adds a task', inputSchema: { type: 'object' } },
    { server: 'tasks', name: 'list_tasks', description: 'Lists tasks', inputSchema: { type: 'object' } },
  ],
};

const metrics = silentMetrics<ConstructorParameters<typeof AgentService>[5]>();
const succeed: ToolCallHandler = (tool) => ({ isError: false, text: `${tool} done`, durationMs: 1 });

/** The agent with its real tool runner and catalogue, over a fake model and a fake MCP registry. */
function setUp(options: { env?: Record<string, string>; onToolCall?: ToolCallHandler } = {}) {
  const config = loadConfig({ NODE_ENV: 'test', JWT_SECRET: 'x'.repeat(40), ...options.env });
  const onToolCall = options.onToolCall ?? succeed;
  const callTool = jest.fn(
    async (_server: string, tool: string, args: Record<string, unknown>, _context: ToolCallContext) =>
      onToolCall(tool, args),
  );
  const registryFake: Pick<McpClientRegistry, 'toolsFor' | 'callTool' | 'prepareForUser'> = {
    toolsFor: () => TOOLS,
    callTool,
    prepareForUser: async () => undefined,
  };
  const registry = registryFake as McpClientRegistry;

  const catalogue = new ToolCatalogue(registry);
  const llm = new FakeLlmClient();
  const agent = new AgentService(
    llm,
    catalogue,
    registry,
    new ToolRunner(catalogue, registry, metrics, config),
    config,
    metrics,
  );
  return { agent, llm, callTool };
}

function turn(overrides: Partial<AgentTurnInput> = {}): AgentTurnInput {
  return {
    userId: USER,
    token: 'token',
    history: [],
    message: 'Add a task',
    signal: new AbortController().signal,
    ...overrides,
  };
}

function blocksOf(message: MessageParam): Anthropic.Messages.ContentBlockParam[] {
  return typeof message.content === 'string' ? [] : message.content;
}

function toolResultsOf(message: MessageParam): Anthropic.Messages.ToolResultBlockParam[] {
  return blocksOf(message).filter((block) => block.type === 'tool_result');
}

function cacheBreakpoints(request: LlmRequest): number {
  const system = Array.isArray(request.system) ? request.system : [];
  const blocks = [...(request.tools ?? []), ...system, ...request.messages.flatMap(blocksOf)];
  return blocks.filter((block) => 'cache_control' in block && block.cache_control).length;
}

/** An earlier turn that used a tool, as the chat stores it: question, answer and its transcript. */
function earlierToolTurn(firstSeq: number): ContextMessage[] {
  const use = toolUseBlock('list_tasks', {}, `toolu_earlier_${firstSeq}`);
  return [
    {
      seq: firstSeq + 1,
      role: 'assistant',
      content: 'You have no tasks.',
      transcript: [
        { role: 'assistant', content: [use] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: use.id, content: '[]', is_error: false }] },
        { role: 'assistant', content: [textBlock('You have no tasks.')] },
      ],
    },
    { seq: firstSeq, role: 'user', content: 'What are my tasks?', transcript: null },
  ];
}

describe(AgentService.name, () => {
  it('runs a requested tool, sends its tool_result back, and returns the final answer', async () => {
    const { agent, llm, callTool } = setUp();
    llm.reply(toolUseAnswer([toolUseBlock('add_task', { title: 'Buy milk' }, 'toolu_1')]), textAnswer('Added.'));

    const result = await agent.runTurn(turn());

    expect(callTool).toHaveBeenCalledWith(
      'tasks',
      'add_task',
      { title: 'Buy milk' },
      expect.objectContaining({ userId: USER }),
    );
    expect(toolResultsOf(llm.lastRequest.messages.at(-1)!)).toEqual([
      expect.objectContaining({ tool_use_id: 'toolu_1', content: 'add_task done', is_error: false }),
    ]);
    expect(result).toMatchObject({ text: 'Added.', stopReason: 'end_turn' });
    expect(result.toolCalls).toEqual([
      expect.objectContaining({ id: 'toolu_1', tool: 'add_task', server: 'tasks', is_error: false }),
    ]);
    expect(result.transcript.map((message) => message.role)).toEqual(['assistant', 'user', 'assistant']);
  });

  it('hands a failing tool back to the model as an is_error tool_result, and keeps the turn going', async () => {
    const { agent, llm } = setUp({
      onToolCall: () => ({ isError: true, text: 'task store unavailable', durationMs: 1 }),
    });
    llm.reply(toolUseAnswer([toolUseBlock('add_task', { title: 'x' }, 'toolu_1')]), textAnswer('Sorry, that failed.'));

    const result = await agent.runTurn(turn());

    expect(toolResultsOf(llm.lastRequest.messages.at(-1)!)).toEqual([
      expect.objectContaining({ tool_use_id: 'toolu_1', content: 'task store unavailable', is_error: true }),
    ]);
    expect(result.toolCalls).toEqual([expect.objectContaining({ id: 'toolu_1', is_error: true })]);
    expect(result.stopReason).toBe('end_turn');
  });

  it('past CHAT_MAX_TOOL_ROUNDS asks once more with tool_choice none, answering every tool_use as not run', async () => {
    const { agent, llm, callTool } = setUp({ env: { CHAT_MAX_TOOL_ROUNDS: '2' } });
    const round = (n: number) =>
      toolUseAnswer([toolUseBlock('list_tasks', {}, `toolu_${n}a`), toolUseBlock('add_task', {}, `toolu_${n}b`)]);
    llm.reply(round(1), round(2), round(3), textAnswer('Here is what I found so far.'));

    const result = await agent.runTurn(turn());

    expect(llm.requests).toHaveLength(4);
    expect(callTool).toHaveBeenCalledTimes(4);
    expect(llm.requests.slice(0, 3).map((request) => request.tool_choice)).toEqual([undefined, undefined, undefined]);
    expect(llm.lastRequest.tool_choice).toEqual({ type: 'none' });
    const notRun = toolResultsOf(llm.lastRequest.messages.at(-1)!);
    expect(notRun.map((block) => block.tool_use_id)).toEqual(['toolu_3a', 'toolu_3b']);
    for (const block of notRun)
      expect(block).toMatchObject({ is_error: true, content: expect.stringMatching(/^Not run/) });
    expect(result).toMatchObject({ stopReason: TOOL_ROUND_LIMIT_STOP_REASON, text: 'Here is what I found so far.' });
    expect(result.toolCalls.map((call) => call.id)).toEqual(['toolu_1a', 'toolu_1b', 'toolu_2a', 'toolu_2b']);
  });

  it('continues a pause_turn by sending the paused content back, without running any tool', async () => {
    const { agent, llm, callTool } = setUp();
    const paused = modelMessage([textBlock('Searching…'), serverToolUseBlock()], 'pause_turn');
    llm.reply(paused, textAnswer('It is sunny.'));

    const result = await agent.runTurn(turn({ message: 'Weather?' }));

    expect(llm.requests).toHaveLength(2);
    expect(llm.lastRequest.messages.at(-1)).toMatchObject({
      role: 'assistant',
      content: [{ type: 'text' }, { type: 'server_tool_use' }],
    });
    expect(callTool).not.toHaveBeenCalled();
    expect(result).toMatchObject({ text: 'Searching…\n\nIt is sunny.', stopReason: 'end_turn' });
  });

  it('stops continuing pause_turn once the tool round limit is used up', async () => {
    const { agent, llm } = setUp({ env: { CHAT_MAX_TOOL_ROUNDS: '1' } });
    const paused = () => modelMessage([serverToolUseBlock()], 'pause_turn');
    llm.reply(paused(), paused());

    const result = await agent.runTurn(turn());

    expect(llm.requests).toHaveLength(2);
    expect(result.stopReason).toBe('pause_turn');
  });

  it('sends at most 4 cache breakpoints in every request: tools, system, the earlier turns, the last message', async () => {
    const { agent, llm } = setUp({ env: { CHAT_MAX_TOOL_ROUNDS: '3' } });
    const round = (n: number) => toolUseAnswer([toolUseBlock('list_tasks', {}, `toolu_${n}`)], `Round ${n}`);
    llm.reply(round(1), modelMessage([serverToolUseBlock()], 'pause_turn'), round(2), round(3), textAnswer('Done.'));

    await agent.runTurn(turn({ history: [...earlierToolTurn(3), ...earlierToolTurn(1)] }));

    expect(llm.requests).toHaveLength(5);
    const counts = llm.requests.map(cacheBreakpoints);
    // Tools, system, the end of the earlier turns and the last message: the stable prefix stays cached.
    expect(counts).toEqual(counts.map(() => MAX_CACHE_BREAKPOINTS));
  });

  it('drops a tool_use left unanswered by a max_tokens cut from the stored transcript, keeping its text', async () => {
    const { agent, llm, callTool } = setUp();
    llm.reply(
      modelMessage([textBlock('Let me add'), toolUseBlock('add_task', { title: 'Bu' }, 'toolu_cut')], 'max_tokens'),
    );

    const result = await agent.runTurn(turn());

    expect(callTool).not.toHaveBeenCalled();
    expect(result).toMatchObject({ text: 'Let me add', stopReason: 'max_tokens' });
    expect(result.transcript).toEqual([
      { role: 'assistant', content: [expect.objectContaining({ type: 'text', text: 'Let me add' })] },
    ]);
  });

  it('stores a placeholder answer when the cut answer had no text at all', async () => {
    const { agent, llm } = setUp();
    llm.reply(modelMessage([toolUseBlock('add_task', {}, 'toolu_cut')], 'max_tokens'));

    const result = await agent.runTurn(turn());

    expect(result.transcript).toEqual([{ role: 'assistant', content: [{ type: 'text', text: '(no answer)' }] }]);
  });

  it('drops a tool_use the model still asks for after the round limit from the stored transcript', async () => {
    const { agent, llm } = setUp({ env: { CHAT_MAX_TOOL_ROUNDS: '1' } });
    const round = (n: number) => toolUseAnswer([toolUseBlock('list_tasks', {}, `toolu_${n}`)]);
    llm.reply(round(1), round(2), toolUseAnswer([toolUseBlock('list_tasks', {}, 'toolu_ignored')], 'Enough.'));

    const result = await agent.runTurn(turn());

    expect(result.stopReason).toBe(TOOL_ROUND_LIMIT_STOP_REASON);
    expect(result.transcript.at(-1)).toEqual({
      role: 'assistant',
      content: [expect.objectContaining({ type: 'text', text: 'Enough.' })],
    });
  });

  it('sums the usage of every model call of the turn', async () => {
    const { agent, llm } = setUp();
    llm.reply(
      modelMessage([toolUseBlock('list_tasks', {})], 'tool_use', {
        input_tokens: 100,
        output_tokens: 20,
        cache_read_input_tokens: 7,
      }),
      modelMessage([textBlock('None.')], 'end_turn', {
        input_tokens: 130,
        output_tokens: 4,
        cache_creation_input_tokens: null,
      }),
    );

    const result = await agent.runTurn(turn());

    expect(result.usage).toEqual({
      input_tokens: 230,
      output_tokens: 24,
      cache_read_input_tokens: 7,
      cache_creation_input_tokens: 0,
    });
  });
});
