import type Anthropic from '@anthropic-ai/sdk';
import { Injectable } from '@nestjs/common';
import { AppConfig } from '../../config/app-config';
import { Metrics } from '../../metrics/metrics';
import type { AgentTurnInput, PendingToolCall, StoredToolCall, ToolCallDecision } from '../agent-turn';
import { ApprovalPolicy } from '../mcp/approval-policy';
import { McpClientRegistry } from '../mcp/mcp-client-registry';
import type { ToolCallOutcome } from '../mcp/mcp.types';
import { CANCELLED_TOOL_RESULT, stopSignalOf } from '../turn-cancellation';
import { assertDecided, decisionOf, deniedText, type ToolCallDecisions } from './tool-decisions';
import { capToolResultText, fitsInBytes } from './tool-result-limit';
import { ToolCatalogue, type CatalogueEntry } from './tool-catalogue';

type ToolResultLike = Pick<ToolCallOutcome, 'isError' | 'text' | 'structured'>;
type ToolResultBlock = Anthropic.Messages.ToolResultBlockParam;
/** A tool_use block, from the model's answer or from a stored transcript. */
export type ToolUse = Pick<Anthropic.Messages.ToolUseBlock, 'id' | 'name' | 'input'>;

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
export function notRun(block: ToolUse, reason: string): ToolResultBlock {
  return { type: 'tool_result', tool_use_id: block.id, content: reason, is_error: true };
}

@Injectable()
export class ToolRunner {
  constructor(
    private readonly catalogue: ToolCatalogue,
    private readonly registry: McpClientRegistry,
    private readonly metrics: Metrics,
    private readonly config: AppConfig,
    private readonly policy: ApprovalPolicy,
  ) {}

  /** The round's calls as the user would be asked about them: only a call that would run can need approval. */
  plan(blocks: readonly ToolUse[], userId: string): PendingToolCall[] {
    const max = this.config.agent.maxToolCallsPerRound;
    return blocks.map((block, index) => {
      const { entry, tool, server, args } = this.resolve(block, userId);
      const needsApproval = index < max && entry !== undefined && this.policy.needsApproval(entry.server, entry.tool);
      // A copy: what the caller does with the question must never reach the arguments the call runs with.
      return { id: block.id, tool, server, arguments: structuredClone(args), needsApproval };
    });
  }

  /** Runs the round; a call that needs approval runs only when `decisions` approve it (and none is missing). */
  async runRound(
    blocks: readonly ToolUse[],
    turn: AgentTurnInput,
    decisions: ToolCallDecisions = {},
  ): Promise<ToolRound> {
    assertDecided(this.plan(blocks, turn.userId), decisions);
    const max = this.config.agent.maxToolCallsPerRound;
    const signal = stopSignalOf(turn);
    const ran = await Promise.all(
      blocks.slice(0, max).map((block) => this.run(block, turn, signal, decisionOf(decisions, block.id))),
    );
    const tooMany = `Not run: at most ${max} tool calls run per round. Call fewer tools at once.`;
    return {
      calls: ran.map((outcome) => outcome.call),
      results: [...ran.map((outcome) => outcome.result), ...blocks.slice(max).map((block) => notRun(block, tooMany))],
    };
  }

  private resolve(block: ToolUse, userId: string) {
    const entry = this.catalogue.resolve(userId, block.name);
    const args = isPlainObject(block.input) ? block.input : {};
    return { entry, tool: entry?.tool ?? block.name, server: entry?.server ?? '', args };
  }

  private async run(
    block: ToolUse,
    turn: AgentTurnInput,
    signal: AbortSignal,
    decision: ToolCallDecision | undefined,
  ): Promise<ToolCallOutcomeOfRound> {
    const { entry, tool, server, args } = this.resolve(block, turn.userId);
    // A denied call is shown starting and failing too, so every stream tells what became of it.
    turn.onEvent?.({ type: 'tool.started', id: block.id, tool, server, arguments: args });
    const outcome =
      decision?.approved === false
        ? { isError: true, text: deniedText(decision.reason) }
        : await this.timed(server, () => abandonedOnCancel(this.call(block, entry, turn, signal), turn.cancel));
    const { text, result } = this.bounded(outcome);
    turn.onEvent?.({ type: 'tool.finished', id: block.id, result, is_error: outcome.isError });
    return {
      call: { id: block.id, tool, server, arguments: args, result, is_error: outcome.isError },
      result: { type: 'tool_result', tool_use_id: block.id, content: text, is_error: outcome.isError },
    };
  }

  private async timed(server: string, call: () => Promise<ToolResultLike>): Promise<ToolResultLike> {
    const stopTimer = this.metrics.toolCallDuration.startTimer({ server });
    const outcome = await call();
    stopTimer({ is_error: String(outcome.isError) });
    return outcome;
  }

  /** What the model sees and what is stored: structured content too large to keep gives way to the cut text. */
  private bounded(outcome: ToolResultLike): { text: string; result: unknown } {
    const maxBytes = this.config.agent.toolResultMaxBytes;
    const text = capToolResultText(outcome.text, maxBytes);
    const keepsStructured = outcome.structured !== undefined && fitsInBytes(outcome.structured, maxBytes);
    return { text, result: keepsStructured ? outcome.structured : text };
  }

  private async call(
    block: ToolUse,
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
