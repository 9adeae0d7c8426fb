import type Anthropic from '@anthropic-ai/sdk';
import { Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { Metrics } from '../metrics/metrics';
import {
  CANCELLED_STOP_REASON,
  TOOL_ROUND_LIMIT_STOP_REASON,
  type AgentTurnInput,
  type AgentTurnResult,
  type StoredToolCall,
  type StoredUsage,
  type TranscriptMessage,
} from './agent-turn';
import { buildContextWindow } from './context/context-window';
import { LlmClient } from './llm/llm-client';
import { toModelError } from './llm/llm-errors';
import { McpClientRegistry } from './mcp/mcp-client-registry';
import { CACHED_SYSTEM, cachedTools, withCacheBreakpoint } from './prompt';
import { notRun, ToolRunner } from './tools/tool-runner';
import { ToolCatalogue } from './tools/tool-catalogue';
import { isCancelled, stopSignalOf } from './turn-cancellation';

type Message = Anthropic.Messages.Message;
type MessageParam = Anthropic.Messages.MessageParam;

const ROUND_LIMIT_RESULT =
  'Not run: the tool round limit of this turn was reached. Answer the user with what you have so far.';
/** An assistant message must not be empty when it is replayed as context. */
const EMPTY_ANSWER = '(no answer)';
/** The final assistant message of a turn cancelled before the model said anything (the stored text stays ''). */
const CANCELLED_ANSWER = '(cancelled)';

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
    const prefix: MessageParam[] = [...withStablePrefixBreakpoint(context), { role: 'user', content: input.message }];
    const signal = stopSignalOf(input);
    const transcript: TranscriptMessage[] = [];
    const texts: string[] = [];
    const toolCalls: StoredToolCall[] = [];
    const usage = emptyUsage();
    let model = this.config.anthropic.model;
    let toolRounds = 0;
    let limitReached = false;
    const result = (stopReason: string): AgentTurnResult => ({
      text: texts.join('\n\n'),
      toolCalls,
      stopReason,
      usage,
      model,
      transcript,
    });
    const cancelled = (partialText = ''): AgentTurnResult => {
      if (partialText.length > 0) texts.push(partialText);
      endCancelled(transcript, partialText);
      return result(CANCELLED_STOP_REASON);
    };

    for (;;) {
      if (isCancelled(input)) return cancelled();
      const partial: string[] = [];
      let response: Message;
      try {
        response = await this.callModel(input, signal, prefix, transcript, {
          toolsDisabled: limitReached,
          onText: (text) => partial.push(text),
        });
      } catch (error) {
        if (isCancelled(input)) return cancelled(partial.join(''));
        // Both fired, the cancel first: the call failed for the cancel, the turn fails for the turn signal's reason.
        if (input.cancel?.aborted) throw toModelError(input.signal.reason, input.signal);
        throw error;
      }
      addUsage(usage, response.usage);
      texts.push(...textOf(response));
      model = response.model;

      const wantsTools = response.stop_reason === 'tool_use' && !limitReached;
      const continues =
        wantsTools || (response.stop_reason === 'pause_turn' && toolRounds < this.config.agent.maxToolRounds);
      if (!continues) {
        transcript.push({ role: 'assistant', content: finalContent(response.content) });
        return result(limitReached ? TOOL_ROUND_LIMIT_STOP_REASON : (response.stop_reason ?? 'end_turn'));
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
      // Cancelled while this answer arrived: its tools are not started.
      if (isCancelled(input)) return cancelled();
      const round = await this.tools.runRound(toolUses(response), input);
      toolCalls.push(...round.calls);
      transcript.push({ role: 'user', content: round.results });
    }
  }

  private async callModel(
    input: AgentTurnInput,
    signal: AbortSignal,
    prefix: MessageParam[],
    transcript: TranscriptMessage[],
    options: { toolsDisabled: boolean; onText: (text: string) => void },
  ): Promise<Message> {
    const messages = [...prefix, ...(transcript as MessageParam[])];
    messages[messages.length - 1] = withCacheBreakpoint(messages[messages.length - 1]);
    const tools = cachedTools(this.catalogue.anthropicTools(input.userId));
    // Streaming costs CPU: only a watching client, or a cancel that keeps the text so far, needs the deltas.
    const watched = input.onEvent !== undefined || input.cancel !== undefined;
    const stopTimer = this.metrics.modelRequestDuration.startTimer();
    try {
      const response = await this.llm.createMessage(
        {
          system: CACHED_SYSTEM,
          messages,
          ...(tools.length > 0 && { tools }),
          ...(tools.length > 0 && options.toolsDisabled && { tool_choice: { type: 'none' } }),
        },
        {
          signal,
          onTextDelta: watched
            ? (text) => {
                options.onText(text);
                input.onEvent?.({ type: 'text.delta', text });
              }
            : undefined,
        },
      );
      stopTimer({ outcome: 'ok' });
      this.countTokens(response.usage);
      return response;
    } catch (error) {
      stopTimer({ outcome: isCancelled(input) ? 'cancelled' : 'error' });
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

function isText(block: unknown): block is Anthropic.Messages.TextBlockParam {
  const { type, text } = (block ?? {}) as { type?: unknown; text?: unknown };
  return type === 'text' && typeof text === 'string' && text.length > 0;
}

function textOf(response: Message): string[] {
  return response.content
    .filter((block): block is Anthropic.Messages.TextBlock => block.type === 'text' && block.text.length > 0)
    .map((block) => block.text);
}

/** Only the text: a tool_use left unanswered (cut by max_tokens) would make every later request invalid. */
function finalContent(content: readonly unknown[], placeholder = EMPTY_ANSWER): unknown[] {
  const text = content.filter(isText);
  return text.length > 0 ? text : [{ type: 'text', text: placeholder }];
}

/**
 * Ends a cancelled turn's transcript with one assistant message of text: a last answer whose tools were
 * not run (or that paused) keeps only its text, joined by what the interrupted call streamed.
 */
function endCancelled(transcript: TranscriptMessage[], partialText: string): void {
  const last = transcript.at(-1)?.role === 'assistant' ? (transcript.pop()?.content ?? []) : [];
  const partial = partialText.length > 0 ? [{ type: 'text', text: partialText }] : [];
  transcript.push({ role: 'assistant', content: finalContent([...last, ...partial], CANCELLED_ANSWER) });
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
