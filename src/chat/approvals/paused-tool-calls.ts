import { randomUUID } from 'node:crypto';
import {
  isAwaitingApproval,
  type AgentTurnResult,
  type PausedAgentTurnResult,
  type PendingToolCall,
  type StoredToolCall,
  type ToolCallDecision,
} from '../../agent/agent-turn';
import type { TurnPause } from '../repositories/message.repository';
import type { TurnResume } from '../turns/started-turn';
import type { PendingApprovalDto } from './dto/pending-approval.dto';

/** What a pause stores: the approvals it asks for, and its tool calls with the waiting ones marked. */
export function pauseOf(
  result: PausedAgentTurnResult,
  toolCalls: StoredToolCall[],
  ttlMs: number,
): { pause: TurnPause; toolCalls: StoredToolCall[] } {
  const asked = result.pendingToolCalls.filter((call) => call.needsApproval);
  const approvals = asked.map((call) => ({
    id: randomUUID(),
    toolCallId: call.id,
    tool: call.tool,
    server: call.server,
    arguments: call.arguments,
  }));
  const waiting = asked.map((call) => toolCallOf(call, null, false, 'awaiting_approval'));
  return {
    pause: { state: { tool_rounds: result.toolRounds, pending: result.pendingToolCalls }, approvals, ttlMs },
    toolCalls: [...toolCalls, ...waiting],
  };
}

/** The calls the user decided on this resume carry the decision; the others keep what they had. */
export function withDecisions(
  toolCalls: StoredToolCall[],
  decisions: Readonly<Record<string, ToolCallDecision>>,
): StoredToolCall[] {
  return toolCalls.map((call) => {
    const decision = decisions[call.id];
    return decision ? { ...call, status: decision.approved ? 'approved' : 'denied' } : call;
  });
}

/** A pause closed unrun: its waiting calls are denied, with why as their result. */
export function withClosedCalls(
  toolCalls: StoredToolCall[],
  closed: { calls: PendingToolCall[]; result: string },
): StoredToolCall[] {
  return [...toolCalls, ...closed.calls.map((call) => toolCallOf(call, closed.result, true, 'denied'))];
}

/** The stored calls of a paused answer, without the ones still waiting: what the agent resumes from. */
export function ranToolCalls(toolCalls: StoredToolCall[]): StoredToolCall[] {
  return toolCalls.filter((call) => call.status !== 'awaiting_approval');
}

function toolCallOf(
  call: PendingToolCall,
  result: unknown,
  isError: boolean,
  status: NonNullable<StoredToolCall['status']>,
): StoredToolCall {
  return {
    id: call.id,
    tool: call.tool,
    server: call.server,
    arguments: call.arguments,
    result,
    is_error: isError,
    status,
  };
}

/** The tool calls a turn stores, with their approval states, and its pause when it paused. */
export function storedToolCalls(
  result: AgentTurnResult,
  resume: TurnResume | undefined,
  approvalTtlMs: number,
): { toolCalls: StoredToolCall[]; pause?: TurnPause } {
  let toolCalls = resume ? withDecisions(result.toolCalls, resume.state.decisions) : result.toolCalls;
  if (resume?.closed) toolCalls = withClosedCalls(toolCalls, resume.closed);
  return isAwaitingApproval(result) ? pauseOf(result, toolCalls, approvalTtlMs) : { toolCalls };
}

/** The approvals of a pause as the API shows them (the answer, `approval.required`, the conversation). */
export function toPendingApprovalDtos(pause: TurnPause, expiresAt: Date): PendingApprovalDto[] {
  return pause.approvals.map((approval) => ({
    approval_id: approval.id,
    tool_call_id: approval.toolCallId,
    tool: approval.tool,
    server: approval.server,
    arguments: approval.arguments,
    expires_at: expiresAt.toISOString(),
  }));
}
