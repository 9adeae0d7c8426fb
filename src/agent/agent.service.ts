import type Anthropic from '@anthropic-ai/sdk';
import { Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { Metrics } from '../metrics/metrics';
import {
  TOOL_ROUND_LIMIT_STOP_REASON,
  type AgentTurnInput,
  type AgentTurnResult,
  type StoredToolCall,
  type StoredUsage,
  type TranscriptMessage,
} from './agent-turn';
import { buildContextWindow } from './context/context-window';
import { LlmClient } from './llm/llm-client';
import { McpClientRegistry } from './mcp/mcp-client-registry';
import { CACHED_SYSTEM, cachedTools, withCacheBreakpoint } from './prompt';
import { notRun, ToolRunner } from './tools/tool-runner';
import { ToolCatalogue } from './tools/tool-catalogue';

type Message = Anthropic.Messages.Message;
type MessageParam = Anthropic.Messages.MessageParam;

const ROUND_LIMIT_RESULT =
  'Not run: the tool round limit of this turn was reached. Answer the user with what you have so far.';
/** An assistant message must not be empty when it is replayed as context. */
const EMPTY_ANSWER = '(no answer)';

/** The agent loop (docs/architecture.md, "The life of a turn"). */
@Injectable()
export class AgentService {
  constructor(
    private readonly llm: LlmClient,
    private readonly catalogue: ToolCatalogue,
    private readonly registry: McpClientRegistry,
    private readonly tools: ToolRunner,
    private readonly config: AppConfig,
    private readonly metrics: Metrics,
  ) {}

  get configured(): boolean {
    return this.llm.configured;
  }

  async runTurn(input: AgentTurnInput): Promise<AgentTurnResult> {
    const context = buildContextWindow(input.history, this.config.agent.contextTokenBudget);
    // Per-user MCP servers whose tool discovery was refused are listed through this user's connection.
    await this.registry.prepareForUser(input.userId);
    const history = withStablePrefixBreakpoint(context);
    const transcript: TranscriptMessage[] = [];
    const texts: string[] = [];
    const toolCalls: StoredToolCall[] = [];
    const usage = emptyUsage();
    let toolRounds = 0;
    let limitReached = false;

    for (;;) {
      const response = await this.callModel(
        input,
        [...history, { role: 'user', content: input.message }],
        transcript,
        limitReached,
      );
      addUsage(usage, response.usage);
      texts.push(...textOf(response));

      const wantsTools = response.stop_reason === 'tool_use' && !limitReached;
      const continues =
        wantsTools || (response.stop_reason === 'pause_turn' && toolRounds < this.config.agent.maxToolRounds);
      if (!continues) {
        transcript.push({ role: 'assistant', content: finalContent(response) });
        const stopReason = limitReached ? TOOL_ROUND_LIMIT_STOP_REASON : (response.stop_reason ?? 'end_turn');
        return { text: texts.join('\n\n'), toolCalls, stopReason, usage, model: response.model, transcript };
      }

      transcript.push({ role: 'assistant', content: response.content });
      toolRounds += 1;
      if (response.stop_reason === 'pause_turn') continue;
      if (toolRounds > this.config.agent.maxToolRounds) {
        limitReached = true;
        transcript.push({
          role: 'user',
          content: toolUses(response).map((block) => notRun(block, ROUND_LIMIT_RESULT)),
        });
        continue;
      }
      const round = await this.tools.runRound(toolUses(response), input);
      toolCalls.push(...round.calls);
      transcript.push({ role: 'user', content: round.results });
    }
  }

  private async callModel(
    input: AgentTurnInput,
    prefix: MessageParam[],
    transcript: TranscriptMessage[],
    toolsDisabled: boolean,
  ): Promise<Message> {
    const messages = [...prefix, ...(transcript as MessageParam[])];
    messages[messages.length - 1] = withCacheBreakpoint(messages[messages.length - 1]);
    const tools = cachedTools(this.catalogue.anthropicTools(input.userId));
    const stopTimer = this.metrics.modelRequestDuration.startTimer();
    try {
      const response = await this.llm.createMessage(
        {
          system: CACHED_SYSTEM,
          messages,
          ...(tools.length > 0 && { tools }),
          ...(tools.length > 0 && toolsDisabled && { tool_choice: { type: 'none' } }),
        },
        {
          signal: input.signal,
          onTextDelta: input.onEvent && ((text) => input.onEvent?.({ type: 'text.delta', text })),
        },
      );
      stopTimer({ outcome: 'ok' });
      this.countTokens(response.usage);
      return response;
    } catch (error) {
      stopTimer({ outcome: 'error' });
      throw error;
    }
  }

  private countTokens(usage: Anthropic.Messages.Usage): void {
    const { tokens } = this.metrics;
    tokens.inc({ kind: 'input' }, usage.input_tokens);
    tokens.inc({ kind: 'output' }, usage.output_tokens);
    tokens.inc({ kind: 'cache_read' }, usage.cache_read_input_tokens ?? 0);
    tokens.inc({ kind: 'cache_creation' }, usage.cache_creation_input_tokens ?? 0);
  }
}

/** The end of the earlier turns is the stable prefix of every call in this turn: cache up to there. */
function withStablePrefixBreakpoint(context: MessageParam[]): MessageParam[] {
  if (context.length === 0) return context;
  return [...context.slice(0, -1), withCacheBreakpoint(context[context.length - 1])];
}

function toolUses(response: Message): Anthropic.Messages.ToolUseBlock[] {
  return response.content.filter((block): block is Anthropic.Messages.ToolUseBlock => block.type === 'tool_use');
}

function textOf(response: Message): string[] {
  return response.content
    .filter((block): block is Anthropic.Messages.TextBlock => block.type === 'text' && block.text.length > 0)
    .map((block) => block.text);
}

/** Only the text: a tool_use left unanswered (cut by max_tokens) would make every later request invalid. */
function finalContent(response: Message): unknown[] {
  const text = response.content.filter((block) => block.type === 'text' && block.text.length > 0);
  return text.length > 0 ? text : [{ type: 'text', text: EMPTY_ANSWER }];
}

function emptyUsage(): StoredUsage {
  return { input_tokens: 0, output_tokens: 0, cache_read_input_tokens: 0, cache_creation_input_tokens: 0 };
}

function addUsage(total: StoredUsage, usage: Anthropic.Messages.Usage): void {
  total.input_tokens += usage.input_tokens;
  total.output_tokens += usage.output_tokens;
  total.cache_read_input_tokens += usage.cache_read_input_tokens ?? 0;
  total.cache_creation_input_tokens += usage.cache_creation_input_tokens ?? 0;
}
