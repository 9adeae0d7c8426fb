import type Anthropic from '@anthropic-ai/sdk';
import { Injectable } from '@nestjs/common';
import type { StoredToolCall } from '../chat/entities/message.entity';
import { Metrics } from '../metrics/metrics.service';
import type { AgentTurnInput } from './agent-turn';
import { McpClientRegistry, type ToolCallOutcome } from './mcp/mcp-client-registry';
import { ToolCatalogue, type CatalogueEntry } from './tools/tool-catalogue';

type ToolResultLike = Pick<ToolCallOutcome, 'isError' | 'text' | 'structured'>;

export interface ToolRoundOutcome {
  call: StoredToolCall;
  result: Anthropic.Messages.ToolResultBlockParam;
}

/** Runs the tool calls of one model round, in parallel, for the user the server bound to the turn. */
@Injectable()
export class ToolRunner {
  constructor(
    private readonly catalogue: ToolCatalogue,
    private readonly registry: McpClientRegistry,
    private readonly metrics: Metrics,
  ) {}

  runRound(blocks: Anthropic.Messages.ToolUseBlock[], turn: AgentTurnInput): Promise<ToolRoundOutcome[]> {
    return Promise.all(blocks.map((block) => this.run(block, turn)));
  }

  private async run(block: Anthropic.Messages.ToolUseBlock, turn: AgentTurnInput): Promise<ToolRoundOutcome> {
    const entry = this.catalogue.resolve(turn.userId, block.name);
    const args = isPlainObject(block.input) ? block.input : {};
    const tool = entry?.tool ?? block.name;
    const server = entry?.server ?? '';
    turn.onEvent?.({ type: 'tool.started', id: block.id, tool, server, arguments: args });
    const stopTimer = this.metrics.toolCallDuration.startTimer({ server });

    const outcome = await this.call(block, entry, turn);
    stopTimer({ is_error: String(outcome.isError) });
    const result = outcome.structured ?? outcome.text;
    turn.onEvent?.({ type: 'tool.finished', id: block.id, result, is_error: outcome.isError });
    return {
      call: { id: block.id, tool, server, arguments: args, result, is_error: outcome.isError },
      result: { type: 'tool_result', tool_use_id: block.id, content: outcome.text, is_error: outcome.isError },
    };
  }

  /** The model's call, or why it cannot be made, as an outcome the model can explain. */
  private async call(
    block: Anthropic.Messages.ToolUseBlock,
    entry: CatalogueEntry | undefined,
    turn: AgentTurnInput,
  ): Promise<ToolResultLike> {
    if (!entry) return { isError: true, text: `Unknown tool ${block.name}: it is not offered in this conversation.` };
    if (!isPlainObject(block.input)) {
      return { isError: true, text: `The arguments of ${block.name} must be a JSON object.` };
    }
    return this.registry.callTool(entry.server, entry.tool, block.input, {
      userId: turn.userId,
      token: turn.token,
      signal: turn.signal,
    });
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
