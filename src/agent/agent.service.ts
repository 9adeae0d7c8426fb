import type Anthropic from '@anthropic-ai/sdk';
import { Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { Metrics } from '../metrics/metrics';
import {
  TOOL_ROUND_LIMIT_STOP_REASON,
  type AgentTurnInput,
  type AgentTurnResult,
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
import { pausedToolUses, TurnState } from './turn-state';

type Message = Anthropic.Messages.Message;
type MessageParam = Anthropic.Messages.MessageParam;

const ROUND_LIMIT_RESULT =
  'Not run: the tool round limit of this turn was reached. Answer the user with what you have so far.';

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
    // On resume too: the paused transcript follows the user's message, which is sent once.
    const prefix: MessageParam[] = [...withStablePrefixBreakpoint(context), { role: 'user', content: input.message }];
    const signal = stopSignalOf(input);
    const turn = new TurnState(this.config.anthropic.model, input.resume);
    let limitReached = false;

    if (input.resume) {
      if (isCancelled(input)) return turn.cancelled();
      turn.addRound(await this.tools.runRound(pausedToolUses(input.resume), input, input.resume.decisions));
    }
    for (;;) {
      if (isCancelled(input)) return turn.cancelled();
      const partial: string[] = [];
      let partialUsage: Anthropic.Messages.Usage | undefined;
      let response: Message;
      try {
        response = await this.callModel(input, signal, prefix, turn.transcript, {
          toolsDisabled: limitReached,
          onText: (text) => partial.push(text),
          onUsage: (usage) => (partialUsage = usage),
        });
      } catch (error) {
        if (isCancelled(input)) return turn.cancelled(partial.join(''), partialUsage);
        // Both fired, the cancel first: the call failed for the cancel, the turn fails for the turn signal's reason.
        if (input.cancel?.aborted) throw toModelError(input.signal.reason, input.signal);
        throw error;
      }
      turn.addResponse(response);

      const wantsTools = response.stop_reason === 'tool_use' && !limitReached;
      const continues =
        wantsTools || (response.stop_reason === 'pause_turn' && turn.toolRounds < this.config.agent.maxToolRounds);
      if (!continues) {
        return turn.finished(
          response.content,
          limitReached ? TOOL_ROUND_LIMIT_STOP_REASON : (response.stop_reason ?? 'end_turn'),
        );
      }

      turn.transcript.push({ role: 'assistant', content: response.content });
      turn.toolRounds += 1;
      if (response.stop_reason === 'pause_turn') continue;
      if (turn.toolRounds > this.config.agent.maxToolRounds) {
        limitReached = true;
        turn.transcript.push({
          role: 'user',
          content: toolUses(response).map((block) => notRun(block, ROUND_LIMIT_RESULT)),
        });
        continue;
      }
      // Cancelled while this answer arrived: its tools are not started.
      if (isCancelled(input)) return turn.cancelled();
      const uses = toolUses(response);
      const round = this.tools.plan(uses, input.userId);
      // None of the round runs before the user decided, not even the calls that need no approval.
      if (round.some((call) => call.needsApproval)) return turn.paused(round);
      turn.addRound(await this.tools.runRound(uses, input));
    }
  }

  private async callModel(
    input: AgentTurnInput,
    signal: AbortSignal,
    prefix: MessageParam[],
    transcript: TranscriptMessage[],
    options: {
      toolsDisabled: boolean;
      onText: (text: string) => void;
      onUsage: (usage: Anthropic.Messages.Usage) => void;
    },
  ): Promise<Message> {
    const messages = [...prefix, ...(transcript as MessageParam[])];
    messages[messages.length - 1] = withCacheBreakpoint(messages[messages.length - 1]);
    const tools = cachedTools(this.catalogue.anthropicTools(input.userId));
    // Streaming costs CPU: only a watcher of the turn's events, or a cancel that keeps the text so far, needs the
    // deltas (the chat layer passes both for every turn; other callers may pass neither).
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
          onUsage: watched ? options.onUsage : undefined,
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
