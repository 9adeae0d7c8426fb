import type { PendingToolCall, ToolCallDecision } from '../agent-turn';

export type ToolCallDecisions = Readonly<Record<string, ToolCallDecision>>;

/** What the model reads for a call the user denied (SPEC §5.3). */
export function deniedText(reason?: string): string {
  const said = reason?.trim() ?? '';
  return said.length > 0 ? `denied by the user: ${said}` : 'denied by the user';
}

export function decisionOf(decisions: ToolCallDecisions, id: string): ToolCallDecision | undefined {
  return Object.hasOwn(decisions, id) ? decisions[id] : undefined;
}

/**
 * The decisions answer exactly this round, and every call that needs approval has one: anything else is a
 * bug of the caller, which must never run a call the user was not asked about.
 */
export function assertDecided(round: readonly PendingToolCall[], decisions: ToolCallDecisions): void {
  const undecided = round.filter((call) => call.needsApproval && decisionOf(decisions, call.id) === undefined);
  if (undecided.length > 0) {
    throw new Error(`No decision for tool calls that need approval: ${undecided.map((call) => call.id).join(', ')}`);
  }
  const strangers = Object.keys(decisions).filter((id) => !round.some((call) => call.id === id));
  if (strangers.length > 0) throw new Error(`Decisions for tool calls not in this round: ${strangers.join(', ')}`);
}
