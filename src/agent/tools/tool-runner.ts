import type Anthropic from '@anthropic-ai/sdk';
import { Injectable } from '@nestjs/common';
import { AppConfig } from '../../config/app-config';
import { Metrics } from '../../metrics/metrics';
import type { AgentTurnInput, StoredToolCall } from '../agent-turn';
import { McpClientRegistry } from '../mcp/mcp-client-registry';
import type { ToolCallOutcome } from '../mcp/mcp.types';
import { CANCELLED_TOOL_RESULT, stopSignalOf } from '../turn-cancellation';
import { capToolResultText, fitsInBytes } from './tool-result-limit';
import { ToolCatalogue, type CatalogueEntry } from './tool-catalogue';

type ToolResultLike = Pick<ToolCallOutcome, 'isError' | 'text' | 'structured'>;
type ToolResultBlock = Anthropic.Messages.ToolResultBlockParam;

const ABANDONED: ToolResultLike = { isError: true, text: CANCELLED_TOOL_RESULT };

interface ToolCallOutcomeOfRound {
  call: StoredToolCall;
  result: ToolResultBlock;
}

export interface ToolRound {
  calls: StoredToolCall[];
  results: ToolResultBlock[];
}

/** The tool_result of a call that was not run, saying why, so the transcript stays valid. */
export function notRun(block: Anthropic.Messages.ToolUseBlock, reason: string): ToolResultBlock {
  return { type: 'tool_result', tool_use_id: block.id, content: reason, is_error: true };
}

@Injectable()
export class ToolRunner {
  constructor(
    private readonly catalogue: ToolCatalogue,
    private readonly registry: McpClientRegistry,
    private readonly metrics: Metrics,
    private readonly config: AppConfig,
  ) {}

  async runRound(blocks: Anthropic.Messages.ToolUseBlock[], turn: AgentTurnInput): Promise<ToolRound> {
    const max = this.config.agent.maxToolCallsPerRound;
    const signal = stopSignalOf(turn);
    const ran = await Promise.all(blocks.slice(0, max).map((block) => this.run(block, turn, signal)));
    const tooMany = `Not run: at most ${max} tool calls run per round. Call fewer tools at once.`;
    return {
      calls: ran.map((outcome) => outcome.call),
      results: [...ran.map((outcome) => outcome.result), ...blocks.slice(max).map((block) => notRun(block, tooMany))],
    };
  }

  private async run(
    block: Anthropic.Messages.ToolUseBlock,
    turn: AgentTurnInput,
    signal: AbortSignal,
  ): Promise<ToolCallOutcomeOfRound> {
    const entry = this.catalogue.resolve(turn.userId, block.name);
    const args = isPlainObject(block.input) ? block.input : {};
    const tool = entry?.tool ?? block.name;
    const server = entry?.server ?? '';
    turn.onEvent?.({ type: 'tool.started', id: block.id, tool, server, arguments: args });
    const stopTimer = this.metrics.toolCallDuration.startTimer({ server });

    const outcome = await abandonedOnCancel(this.call(block, entry, turn, signal), turn.cancel);
    stopTimer({ is_error: String(outcome.isError) });
    const { text, result } = this.bounded(outcome);
    turn.onEvent?.({ type: 'tool.finished', id: block.id, result, is_error: outcome.isError });
    return {
      call: { id: block.id, tool, server, arguments: args, result, is_error: outcome.isError },
      result: { type: 'tool_result', tool_use_id: block.id, content: text, is_error: outcome.isError },
    };
  }

  /** What the model sees and what is stored: structured content too large to keep gives way to the cut text. */
  private bounded(outcome: ToolResultLike): { text: string; result: unknown } {
    const maxBytes = this.config.agent.toolResultMaxBytes;
    const text = capToolResultText(outcome.text, maxBytes);
    const keepsStructured = outcome.structured !== undefined && fitsInBytes(outcome.structured, maxBytes);
    return { text, result: keepsStructured ? outcome.structured : text };
  }

  private async call(
    block: Anthropic.Messages.ToolUseBlock,
    entry: CatalogueEntry | undefined,
    turn: AgentTurnInput,
    signal: AbortSignal,
  ): Promise<ToolResultLike> {
    if (!entry) return { isError: true, text: `Unknown tool ${block.name}: it is not offered in this conversation.` };
    if (!isPlainObject(block.input)) {
      return { isError: true, text: `The arguments of ${block.name} must be a JSON object.` };
    }
    return this.registry.callTool(entry.server, entry.tool, block.input, {
      userId: turn.userId,
      token: turn.token,
      signal,
    });
  }
}

/** A cancelled turn does not wait for its calls: one still running settles as abandoned, its own result dropped. */
function abandonedOnCancel(call: Promise<ToolResultLike>, cancel: AbortSignal | undefined): Promise<ToolResultLike> {
  if (!cancel) return call;
  let stopListening = (): void => undefined;
  const abandoned = new Promise<ToolResultLike>((resolve) => {
    const onCancel = () => resolve(ABANDONED);
    if (cancel.aborted) {
      onCancel();
      return;
    }
    cancel.addEventListener('abort', onCancel, { once: true });
    stopListening = () => cancel.removeEventListener('abort', onCancel);
  });
  // The race handles a late rejection of the abandoned call too.
  return Promise.race([call, abandoned]).finally(stopListening);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
