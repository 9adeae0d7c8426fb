import type Anthropic from '@anthropic-ai/sdk';
import { AppError } from '../common/errors/app-error';
import {
  FAKE_MODEL,
  FakeLlmClient,
  modelMessage,
  serverToolUseBlock,
  stalledStream,
  textAnswer,
  textBlock,
  toolUseAnswer,
  toolUseBlock,
} from '../../test/support/fake-llm-client';
import { silentMetrics } from '../../test/support/silent-metrics';
import { loadConfig } from '../config/app-config';
import {
  APPROVAL_REQUIRED_STOP_REASON,
  CANCELLED_STOP_REASON,
  isAwaitingApproval,
  TOOL_ROUND_LIMIT_STOP_REASON,
  type AgentEvent,
  type AgentTurnInput,
  type AgentTurnResult,
  type AgentTurnResume,
  type ContextMessage,
  type PausedAgentTurnResult,
  type ToolCallDecision,
  type TranscriptMessage,
} from './agent-turn';
import { AgentService } from './agent.service';
import type { LlmRequest } from './llm/llm-client';
import { ApprovalPolicy } from './mcp/approval-policy';
import type { McpClientRegistry } from './mcp/mcp-client-registry';
import type { ApprovalRequirement } from './mcp/mcp-server-definition';
import type { ToolCallContext, ToolCallOutcome, ToolList } from './mcp/mcp.types';
import { ToolCatalogue } from './tools/tool-catalogue';
import { ToolRunner } from './tools/tool-runner';

type MessageParam = Anthropic.Messages.MessageParam;
type ToolCallHandler = (
  tool: string,
  args: Record<string, unknown>,
  context: ToolCallContext,
) => ToolCallOutcome | Promise<ToolCallOutcome>;

const USER = 'user-1';
const MAX_CACHE_BREAKPOINTS = 4;
const TOOLS: ToolList = {
  version: '1',
  personal: false,
  tools: [
    { server: 'tasks', name: 'add_task', description: 'Adds a task', inputSchema: { type: 'object' } },
    { server: 'tasks', name: 'list_tasks', description: 'Lists tasks', inputSchema: { type: 'object' } },
    { server: 'tasks', name: 'delete_task', description: 'Deletes a task', inputSchema: { type: 'object' } },
  ],
};
/** What the operator configures for the tasks server in the approval tests. */
const DELETE_NEEDS_APPROVAL: ApprovalRequirement = { tools: ['delete_task'] };

const metrics = silentMetrics<ConstructorParameters<typeof AgentService>[5]>();
const succeed: ToolCallHandler = (tool) => ({ isError: false, text: `${tool} done`, durationMs: 1 });
/** An MCP server that never answers, whatever the signal says. */
const hang: ToolCallHandler = () => new Promise<never>(() => undefined);
/** An MCP server that ends the call once its signal aborts, as the MCP SDK does. */
const answersOnAbort: ToolCallHandler = (_tool, _args, { signal }) =>
  new Promise((resolve) => {
    const cancelled = () => resolve({ isError: true, text: 'cancelled', durationMs: 1 });
    if (signal?.aborted) cancelled();
    else signal?.addEventListener('abort', cancelled, { once: true });
  });
const CANCELLED_TOOL_TEXT = 'Cancelled: the turn was cancelled before this tool call finished.';

/** The agent with its real tool runner and catalogue, over a fake model and a fake MCP registry. */
function setUp(
  options: { env?: Record<string, string>; onToolCall?: ToolCallHandler; requireApproval?: ApprovalRequirement } = {},
) {
  const config = loadConfig({ NODE_ENV: 'test', JWT_SECRET: 'x'.repeat(40), ...options.env });
  const onToolCall = options.onToolCall ?? succeed;
  const callTool = jest.fn(
    async (_server: string, tool: string, args: Record<string, unknown>, context: ToolCallContext) =>
      onToolCall(tool, args, context),
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
    new ToolRunner(
      catalogue,
      registry,
      metrics,
      config,
      new ApprovalPolicy([{ name: 'tasks', requireApproval: options.requireApproval }]),
    ),
    config,
    metrics,
  );
  return { agent, llm, callTool, config };
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

/** A cancellable turn whose cancel fires on the first event that matches; the events are recorded. */
function cancellableTurn(cancelOn: (event: AgentEvent) => boolean, overrides: Partial<AgentTurnInput> = {}) {
  const cancel = new AbortController();
  const events: AgentEvent[] = [];
  const input = turn({
    cancel: cancel.signal,
    onEvent: (event) => {
      events.push(event);
      if (cancelOn(event)) cancel.abort();
    },
    ...overrides,
  });
  return { input, events, cancel };
}

/** Valid as later context: every tool_use answered by the next message, and it ends with a non-empty answer. */
function expectReplayable(transcript: TranscriptMessage[]): void {
  transcript.forEach((message, index) => {
    if (message.role !== 'assistant') return;
    const uses = (message.content as Anthropic.Messages.ContentBlockParam[]).filter((b) => b.type === 'tool_use');
    const next = transcript[index + 1] as MessageParam | undefined;
    const answered = next ? toolResultsOf(next).map((block) => block.tool_use_id) : [];
    expect(answered).toEqual(expect.arrayContaining(uses.map((use) => use.id)));
  });
  const last = transcript.at(-1);
  expect(last?.role).toBe('assistant');
  expect(last?.content).toEqual(
    expect.arrayContaining([expect.objectContaining({ type: 'text', text: expect.stringMatching(/\S/) })]),
  );
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

const LIST = toolUseBlock('list_tasks', {}, 'toolu_list');
const DELETE_7 = toolUseBlock('delete_task', { task_id: 7 }, 'toolu_delete');

/** The paused turn as the chat layer stores it (JSON in PostgreSQL), handed back with the user's decisions. */
function resumeFrom(result: AgentTurnResult, decisions: Record<string, ToolCallDecision>): AgentTurnResume {
  if (!isAwaitingApproval(result)) throw new Error(`the turn did not pause: ${result.stopReason}`);
  const stored = JSON.parse(JSON.stringify(result)) as PausedAgentTurnResult;
  const { transcript, toolCalls, text, usage, toolRounds } = stored;
  return { transcript, toolCalls, text, usage, toolRounds, decisions };
}

/** A turn that asked to list the tasks and delete task 7 in one round, and paused for the delete. */
async function pausedOnDelete(options: Parameters<typeof setUp>[0] = {}) {
  const set = setUp({ requireApproval: DELETE_NEEDS_APPROVAL, ...options });
  set.llm.reply(toolUseAnswer([LIST, DELETE_7], 'Deleting it.'));
  const paused = await set.agent.runTurn(turn({ message: 'Delete task 7' }));
  set.llm.requests.length = 0;
  return { ...set, paused };
}

function toolEventsOf(events: AgentEvent[]): AgentEvent[] {
  return events.filter((event) => event.type !== 'text.delta');
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

  describe('cancel', () => {
    it('mid model stream resolves as cancelled with the text streamed so far', async () => {
      const { agent, llm, config } = setUp();
      llm.reply(stalledStream('Let me ', 'think'));
      const { input } = cancellableTurn((event) => event.type === 'text.delta' && event.text === 'think');

      const result = await agent.runTurn(input);

      expect(result).toEqual({
        text: 'Let me think',
        toolCalls: [],
        stopReason: CANCELLED_STOP_REASON,
        usage: { input_tokens: 0, output_tokens: 0, cache_read_input_tokens: 0, cache_creation_input_tokens: 0 },
        model: config.anthropic.model,
        transcript: [{ role: 'assistant', content: [{ type: 'text', text: 'Let me think' }] }],
      });
    });

    it('before the model says anything resolves with an empty text and a placeholder answer in the transcript', async () => {
      const { agent, llm } = setUp();
      llm.reply(stalledStream());
      const { input, cancel } = cancellableTurn(() => false);

      const running = agent.runTurn(input);
      setTimeout(() => cancel.abort(), 5);
      const result = await running;

      expect(result).toMatchObject({ text: '', stopReason: CANCELLED_STOP_REASON, toolCalls: [] });
      expect(result.transcript).toEqual([{ role: 'assistant', content: [{ type: 'text', text: '(cancelled)' }] }]);
    });

    it('already fired when the turn starts never calls the model', async () => {
      const { agent, llm } = setUp();
      const createMessage = jest.spyOn(llm, 'createMessage');
      const { input, cancel } = cancellableTurn(() => false);
      cancel.abort();

      const result = await agent.runTurn(input);

      expect(createMessage).not.toHaveBeenCalled();
      expect(result).toMatchObject({ text: '', stopReason: CANCELLED_STOP_REASON });
      expectReplayable(result.transcript);
    });

    it('in a later model call keeps the finished rounds, their usage and the partial text', async () => {
      const { agent, llm } = setUp();
      llm.reply(
        modelMessage([textBlock('Checking.'), toolUseBlock('list_tasks', {}, 'toolu_1')], 'tool_use', {
          input_tokens: 100,
          output_tokens: 20,
        }),
        stalledStream('You have'),
      );
      const { input } = cancellableTurn((event) => event.type === 'text.delta' && event.text === 'You have');

      const result = await agent.runTurn(input);

      expect(result).toMatchObject({
        text: 'Checking.\n\nYou have',
        stopReason: CANCELLED_STOP_REASON,
        model: FAKE_MODEL,
      });
      expect(result.usage).toMatchObject({ input_tokens: 100, output_tokens: 20 });
      expect(result.toolCalls).toEqual([expect.objectContaining({ id: 'toolu_1', is_error: false })]);
      expect(result.transcript.map((message) => message.role)).toEqual(['assistant', 'user', 'assistant']);
      expect(result.transcript.at(-1)).toEqual({ role: 'assistant', content: [{ type: 'text', text: 'You have' }] });
      expectReplayable(result.transcript);
    });

    it('during a hung tool call resolves at once, abandoning the call with a tool.finished error', async () => {
      const { agent, llm, callTool } = setUp({
        onToolCall: (tool, args, context) => (tool === 'add_task' ? hang : succeed)(tool, args, context),
      });
      llm.reply(
        toolUseAnswer([toolUseBlock('list_tasks', {}, 'toolu_list'), toolUseBlock('add_task', {}, 'toolu_add')]),
      );
      let cancelledAt = 0;
      const { input, events } = cancellableTurn((event) => {
        const listed = event.type === 'tool.finished' && event.id === 'toolu_list';
        if (listed) cancelledAt = performance.now();
        return listed;
      });

      const result = await agent.runTurn(input);

      expect(performance.now() - cancelledAt).toBeLessThan(100);
      expect(result.stopReason).toBe(CANCELLED_STOP_REASON);
      expect(callTool.mock.calls.find(([, tool]) => tool === 'add_task')?.[3].signal?.aborted).toBe(true);
      expect(result.toolCalls).toEqual([
        expect.objectContaining({ id: 'toolu_list', is_error: false, result: 'list_tasks done' }),
        expect.objectContaining({ id: 'toolu_add', is_error: true, result: CANCELLED_TOOL_TEXT }),
      ]);
      expect(events).toContainEqual({
        type: 'tool.finished',
        id: 'toolu_add',
        result: CANCELLED_TOOL_TEXT,
        is_error: true,
      });
      expect(toolResultsOf(result.transcript[1] as MessageParam)).toEqual([
        expect.objectContaining({ tool_use_id: 'toolu_list', is_error: false }),
        expect.objectContaining({ tool_use_id: 'toolu_add', is_error: true, content: CANCELLED_TOOL_TEXT }),
      ]);
      expect(result.transcript.at(-1)).toEqual({ role: 'assistant', content: [{ type: 'text', text: '(cancelled)' }] });
      expectReplayable(result.transcript);
    });

    it('between rounds stops before the next model call', async () => {
      const { agent, llm } = setUp();
      llm.reply(toolUseAnswer([toolUseBlock('list_tasks', {}, 'toolu_1')], 'Looking.'), textAnswer('never asked'));
      const createMessage = jest.spyOn(llm, 'createMessage');
      const { input } = cancellableTurn((event) => event.type === 'tool.finished');

      const result = await agent.runTurn(input);

      expect(createMessage).toHaveBeenCalledTimes(1);
      expect(result).toMatchObject({ text: 'Looking.', stopReason: CANCELLED_STOP_REASON });
      expect(result.toolCalls).toEqual([expect.objectContaining({ id: 'toolu_1', is_error: false })]);
      expectReplayable(result.transcript);
    });

    it('while a tool_use answer arrives runs none of its tools, keeping only its text', async () => {
      const { agent, llm, callTool } = setUp();
      llm.reply(toolUseAnswer([toolUseBlock('add_task', {}, 'toolu_1')], 'Adding it.'));
      const { input, events } = cancellableTurn((event) => event.type === 'text.delta');

      const result = await agent.runTurn(input);

      expect(callTool).not.toHaveBeenCalled();
      expect(events.filter((event) => event.type.startsWith('tool.'))).toEqual([]);
      expect(result).toMatchObject({ text: 'Adding it.', stopReason: CANCELLED_STOP_REASON, toolCalls: [] });
      expect(result.transcript).toEqual([
        { role: 'assistant', content: [expect.objectContaining({ type: 'text', text: 'Adding it.' })] },
      ]);
    });

    it('after a pause_turn folds the paused text and the partial text into one final answer', async () => {
      const { agent, llm } = setUp();
      llm.reply(modelMessage([textBlock('Searching…'), serverToolUseBlock()], 'pause_turn'), stalledStream('It is'));
      const { input } = cancellableTurn((event) => event.type === 'text.delta' && event.text === 'It is');

      const result = await agent.runTurn(input);

      expect(result.text).toBe('Searching…\n\nIt is');
      expect(result.transcript).toEqual([
        {
          role: 'assistant',
          content: [expect.objectContaining({ type: 'text', text: 'Searching…' }), { type: 'text', text: 'It is' }],
        },
      ]);
    });
  });

  describe('approval', () => {
    it('pauses before a round with a call that needs approval: none of its calls runs, every one is listed', async () => {
      const { agent, llm, callTool } = setUp({ requireApproval: DELETE_NEEDS_APPROVAL });
      const answer = toolUseAnswer([LIST, DELETE_7], 'Deleting it.');
      llm.reply(answer);
      const events: AgentEvent[] = [];

      const result = await agent.runTurn(turn({ onEvent: (event) => events.push(event) }));

      expect(callTool).not.toHaveBeenCalled();
      expect(toolEventsOf(events)).toEqual([]);
      expect(llm.requests).toHaveLength(1);
      expect(result).toEqual({
        text: 'Deleting it.',
        toolCalls: [],
        stopReason: APPROVAL_REQUIRED_STOP_REASON,
        usage: { input_tokens: 10, output_tokens: 5, cache_read_input_tokens: 0, cache_creation_input_tokens: 0 },
        model: FAKE_MODEL,
        transcript: [{ role: 'assistant', content: answer.content }],
        pendingToolCalls: [
          { id: 'toolu_list', tool: 'list_tasks', server: 'tasks', arguments: {}, needsApproval: false },
          { id: 'toolu_delete', tool: 'delete_task', server: 'tasks', arguments: { task_id: 7 }, needsApproval: true },
        ],
        toolRounds: 1,
      });
    });

    it('keeps the rounds run before the pause and their usage, counting the paused round', async () => {
      const { agent, llm, callTool } = setUp({ requireApproval: DELETE_NEEDS_APPROVAL });
      llm.reply(toolUseAnswer([LIST], 'Looking.'), toolUseAnswer([DELETE_7], 'Deleting it.'));

      const result = await agent.runTurn(turn());

      expect(callTool).toHaveBeenCalledTimes(1);
      expect(result).toMatchObject({
        text: 'Looking.\n\nDeleting it.',
        stopReason: APPROVAL_REQUIRED_STOP_REASON,
        toolCalls: [expect.objectContaining({ id: 'toolu_list', is_error: false })],
        usage: { input_tokens: 20, output_tokens: 10 },
        toolRounds: 2,
      });
      expect(result.transcript.map((message) => message.role)).toEqual(['assistant', 'user', 'assistant']);
    });

    it('does not pause for a server configured without require_approval: its delete_task just runs', async () => {
      const { agent, llm, callTool } = setUp();
      llm.reply(toolUseAnswer([DELETE_7]), textAnswer('Deleted.'));

      const result = await agent.runTurn(turn());

      expect(callTool).toHaveBeenCalledWith('tasks', 'delete_task', { task_id: 7 }, expect.anything());
      expect(result).toMatchObject({ stopReason: 'end_turn', text: 'Deleted.' });
      expect(result).not.toHaveProperty('pendingToolCalls');
    });

    it('resumes an approved call with the arguments of the stored transcript, the user message sent once', async () => {
      const { agent, llm, callTool, paused } = await pausedOnDelete();
      // What the caller does with the question it shows cannot change what runs.
      (paused as PausedAgentTurnResult).pendingToolCalls[1].arguments.task_id = 8;
      llm.reply(textAnswer('Deleted.'));
      const events: AgentEvent[] = [];

      const result = await agent.runTurn(
        turn({
          message: 'Delete task 7',
          onEvent: (event) => events.push(event),
          resume: resumeFrom(paused, { toolu_delete: { approved: true } }),
        }),
      );

      expect(callTool).toHaveBeenCalledTimes(2);
      expect(callTool).toHaveBeenCalledWith('tasks', 'list_tasks', {}, expect.objectContaining({ userId: USER }));
      expect(callTool).toHaveBeenCalledWith(
        'tasks',
        'delete_task',
        { task_id: 7 },
        expect.objectContaining({ userId: USER }),
      );
      expect(toolEventsOf(events)).toEqual(
        expect.arrayContaining([
          { type: 'tool.started', id: 'toolu_delete', tool: 'delete_task', server: 'tasks', arguments: { task_id: 7 } },
          { type: 'tool.finished', id: 'toolu_delete', result: 'delete_task done', is_error: false },
        ]),
      );
      const sent = llm.lastRequest.messages;
      expect(sent.map((message) => message.role)).toEqual(['user', 'assistant', 'user']);
      expect(sent[0]).toEqual({ role: 'user', content: 'Delete task 7' });
      expect(toolResultsOf(sent[2])).toEqual([
        expect.objectContaining({ tool_use_id: 'toolu_list', content: 'list_tasks done', is_error: false }),
        expect.objectContaining({ tool_use_id: 'toolu_delete', content: 'delete_task done', is_error: false }),
      ]);
      expect(result).toMatchObject({
        text: 'Deleting it.\n\nDeleted.',
        stopReason: 'end_turn',
        usage: { input_tokens: 20, output_tokens: 10 },
      });
      expect(result.toolCalls).toEqual([
        expect.objectContaining({ id: 'toolu_list', is_error: false }),
        expect.objectContaining({ id: 'toolu_delete', arguments: { task_id: 7 }, is_error: false }),
      ]);
      expectReplayable(result.transcript);
    });

    it.each([
      [{ approved: false, reason: 'keep it' }, 'denied by the user: keep it'],
      [{ approved: false }, 'denied by the user'],
    ])('hands a denial (%j) to the model as the tool error "%s", without calling the tool', async (decision, text) => {
      const { agent, llm, callTool, paused } = await pausedOnDelete();
      llm.reply(textAnswer('I left task 7 alone.'));
      const events: AgentEvent[] = [];

      const result = await agent.runTurn(
        turn({ onEvent: (event) => events.push(event), resume: resumeFrom(paused, { toolu_delete: decision }) }),
      );

      expect(callTool.mock.calls.map(([, tool]) => tool)).toEqual(['list_tasks']);
      expect(toolResultsOf(llm.lastRequest.messages.at(-1)!)).toEqual([
        expect.objectContaining({ tool_use_id: 'toolu_list', is_error: false }),
        expect.objectContaining({ tool_use_id: 'toolu_delete', content: text, is_error: true }),
      ]);
      expect(toolResultsOf(result.transcript[1] as MessageParam)[1]).toEqual({
        type: 'tool_result',
        tool_use_id: 'toolu_delete',
        content: text,
        is_error: true,
      });
      expect(toolEventsOf(events)).toEqual(
        expect.arrayContaining([
          { type: 'tool.started', id: 'toolu_delete', tool: 'delete_task', server: 'tasks', arguments: { task_id: 7 } },
          { type: 'tool.finished', id: 'toolu_delete', result: text, is_error: true },
        ]),
      );
      expect(result.toolCalls.at(-1)).toEqual({
        id: 'toolu_delete',
        tool: 'delete_task',
        server: 'tasks',
        arguments: { task_id: 7 },
        result: text,
        is_error: true,
      });
      expect(result).toMatchObject({ text: 'Deleting it.\n\nI left task 7 alone.', stopReason: 'end_turn' });
    });

    it('runs the approved calls of a round and denies the others', async () => {
      const { agent, llm, callTool } = setUp({ requireApproval: DELETE_NEEDS_APPROVAL });
      const delete8 = toolUseBlock('delete_task', { task_id: 8 }, 'toolu_delete_8');
      llm.reply(toolUseAnswer([DELETE_7, LIST, delete8]));
      const paused = await agent.runTurn(turn());
      llm.reply(textAnswer('Deleted 7, kept 8.'));

      const result = await agent.runTurn(
        turn({
          resume: resumeFrom(paused, {
            toolu_delete: { approved: true },
            toolu_delete_8: { approved: false, reason: 'not that one' },
          }),
        }),
      );

      expect(callTool.mock.calls.map(([, tool, args]) => [tool, args])).toEqual([
        ['delete_task', { task_id: 7 }],
        ['list_tasks', {}],
      ]);
      expect(
        toolResultsOf(llm.lastRequest.messages.at(-1)!).map(({ tool_use_id, content, is_error }) => [
          tool_use_id,
          content,
          is_error,
        ]),
      ).toEqual([
        ['toolu_delete', 'delete_task done', false],
        ['toolu_list', 'list_tasks done', false],
        ['toolu_delete_8', 'denied by the user: not that one', true],
      ]);
      expect(result.stopReason).toBe('end_turn');
    });

    it('pauses again when the model asks for another call that needs approval, keeping the whole turn', async () => {
      const { agent, llm, callTool, paused } = await pausedOnDelete();
      const delete9 = toolUseBlock('delete_task', { task_id: 9 }, 'toolu_delete_9');
      llm.reply(toolUseAnswer([delete9], 'And this one.'));

      const again = await agent.runTurn(turn({ resume: resumeFrom(paused, { toolu_delete: { approved: true } }) }));

      expect(callTool).toHaveBeenCalledTimes(2);
      expect(again).toMatchObject({
        text: 'Deleting it.\n\nAnd this one.',
        stopReason: APPROVAL_REQUIRED_STOP_REASON,
        toolCalls: [expect.objectContaining({ id: 'toolu_list' }), expect.objectContaining({ id: 'toolu_delete' })],
        usage: { input_tokens: 20, output_tokens: 10 },
        toolRounds: 2,
        pendingToolCalls: [
          {
            id: 'toolu_delete_9',
            tool: 'delete_task',
            server: 'tasks',
            arguments: { task_id: 9 },
            needsApproval: true,
          },
        ],
      });
      expect(again.transcript.map((message) => message.role)).toEqual(['assistant', 'user', 'assistant']);

      llm.reply(textAnswer('All gone.'));
      const result = await agent.runTurn(turn({ resume: resumeFrom(again, { toolu_delete_9: { approved: true } }) }));

      expect(callTool).toHaveBeenLastCalledWith('tasks', 'delete_task', { task_id: 9 }, expect.anything());
      expect(result).toMatchObject({
        text: 'Deleting it.\n\nAnd this one.\n\nAll gone.',
        stopReason: 'end_turn',
        usage: { input_tokens: 30, output_tokens: 15 },
      });
      expect(result.toolCalls.map((call) => call.id)).toEqual(['toolu_list', 'toolu_delete', 'toolu_delete_9']);
      expectReplayable(result.transcript);
    });

    it('counts the rounds before the pause towards CHAT_MAX_TOOL_ROUNDS after the resume', async () => {
      const { agent, llm, callTool } = setUp({
        requireApproval: DELETE_NEEDS_APPROVAL,
        env: { CHAT_MAX_TOOL_ROUNDS: '2' },
      });
      llm.reply(toolUseAnswer([LIST]), toolUseAnswer([DELETE_7]));
      const paused = await agent.runTurn(turn());
      llm.reply(toolUseAnswer([toolUseBlock('list_tasks', {}, 'toolu_list_again')]), textAnswer('That is all.'));

      const result = await agent.runTurn(turn({ resume: resumeFrom(paused, { toolu_delete: { approved: true } }) }));

      expect(callTool.mock.calls.map(([, tool]) => tool)).toEqual(['list_tasks', 'delete_task']);
      expect(llm.requests).toHaveLength(4);
      expect(llm.lastRequest.tool_choice).toEqual({ type: 'none' });
      expect(toolResultsOf(llm.lastRequest.messages.at(-1)!)).toEqual([
        expect.objectContaining({ tool_use_id: 'toolu_list_again', content: expect.stringMatching(/^Not run/) }),
      ]);
      expect(result).toMatchObject({ stopReason: TOOL_ROUND_LIMIT_STOP_REASON, text: 'That is all.' });
    });

    it('refuses to resume without a decision for a call that needs approval, running nothing', async () => {
      const { agent, llm, callTool, paused } = await pausedOnDelete();

      await expect(agent.runTurn(turn({ resume: resumeFrom(paused, {}) }))).rejects.toThrow(
        'No decision for tool calls that need approval: toolu_delete',
      );
      expect(callTool).not.toHaveBeenCalled();
      expect(llm.requests).toHaveLength(0);
    });

    it('a cancel during a resumed tool call ends the turn at once with what it had', async () => {
      const { agent, llm, callTool, paused } = await pausedOnDelete({
        onToolCall: (tool, args, context) => (tool === 'delete_task' ? hang : succeed)(tool, args, context),
      });
      const { input } = cancellableTurn((event) => event.type === 'tool.finished' && event.id === 'toolu_list', {
        resume: resumeFrom(paused, { toolu_delete: { approved: true } }),
      });

      const result = await agent.runTurn(input);

      expect(callTool.mock.calls.find(([, tool]) => tool === 'delete_task')?.[3].signal?.aborted).toBe(true);
      expect(llm.requests).toHaveLength(0);
      expect(result).toMatchObject({ text: 'Deleting it.', stopReason: CANCELLED_STOP_REASON });
      expect(result.toolCalls).toEqual([
        expect.objectContaining({ id: 'toolu_list', is_error: false }),
        expect.objectContaining({ id: 'toolu_delete', is_error: true, result: CANCELLED_TOOL_TEXT }),
      ]);
      expectReplayable(result.transcript);
    });

    it('a cancel already fired when the resume starts runs none of the paused calls and needs no decisions', async () => {
      const { agent, llm, callTool, paused } = await pausedOnDelete();
      // How a turn cancelled while it awaits approval gets its final answer.
      const { input, cancel } = cancellableTurn(() => false, { resume: resumeFrom(paused, {}) });
      cancel.abort();

      const result = await agent.runTurn(input);

      expect(callTool).not.toHaveBeenCalled();
      expect(llm.requests).toHaveLength(0);
      expect(result).toMatchObject({ text: 'Deleting it.', stopReason: CANCELLED_STOP_REASON, toolCalls: [] });
      expect(result.transcript).toEqual([
        { role: 'assistant', content: [expect.objectContaining({ type: 'text', text: 'Deleting it.' })] },
      ]);
    });

    it('the turn signal still fails a resumed turn during its tool calls', async () => {
      const timeout = new AbortController();
      const { agent, llm, paused } = await pausedOnDelete({ onToolCall: answersOnAbort });
      const { input } = cancellableTurn(
        (event) => {
          if (event.type === 'tool.started') timeout.abort();
          return false;
        },
        { signal: timeout.signal, resume: resumeFrom(paused, { toolu_delete: { approved: true } }) },
      );

      await expect(agent.runTurn(input)).rejects.toMatchObject({ code: 'model_timeout' });
      expect(llm.requests).toHaveLength(0);
    });
  });

  describe('the turn signal (timeout, shutdown)', () => {
    it('still fails a cancellable turn when it fires mid stream', async () => {
      const { agent, llm } = setUp();
      llm.reply(stalledStream('Partial'));
      const timeout = new AbortController();
      const { input } = cancellableTurn(() => false, { signal: timeout.signal });

      const running = agent.runTurn(input);
      setTimeout(() => timeout.abort(), 5);

      await expect(running).rejects.toMatchObject({ code: 'model_timeout' });
    });

    it('wins over a cancel that fires with it: the turn fails', async () => {
      const { agent, llm } = setUp();
      llm.reply(stalledStream('Partial'));
      const timeout = new AbortController();
      const { input, cancel } = cancellableTurn(() => false, { signal: timeout.signal });

      const running = agent.runTurn(input);
      setTimeout(() => {
        cancel.abort();
        timeout.abort(new AppError('service_shutting_down', 'The service is shutting down.'));
      }, 5);

      await expect(running).rejects.toMatchObject({ code: 'service_shutting_down' });
    });

    it('fails the turn when it fires during a tool call', async () => {
      const timeout = new AbortController();
      const { agent, llm } = setUp({ onToolCall: answersOnAbort });
      llm.reply(toolUseAnswer([toolUseBlock('add_task', {}, 'toolu_1')]), textAnswer('never asked'));
      const { input } = cancellableTurn(
        (event) => {
          if (event.type === 'tool.started') timeout.abort();
          return false;
        },
        { signal: timeout.signal },
      );

      await expect(agent.runTurn(input)).rejects.toMatchObject({ code: 'model_timeout' });
      expect(llm.requests).toHaveLength(1);
    });
  });
});
