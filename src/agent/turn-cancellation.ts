import type { AgentTurnInput } from './agent-turn';

type TurnSignals = Pick<AgentTurnInput, 'signal' | 'cancel'>;

/** What the model reads, and the user sees, for a tool call the cancel abandoned before it finished. */
export const CANCELLED_TOOL_RESULT = 'Cancelled: the turn was cancelled before this tool call finished.';

/** The model call and the tool calls stop on either signal; which one fired decides how the turn ends. */
export function stopSignalOf({ signal, cancel }: TurnSignals): AbortSignal {
  return cancel ? AbortSignal.any([signal, cancel]) : signal;
}

/**
 * The user cancelled, and the turn's own signal has not fired. When both have, the timeout or shutdown
 * wins: the turn fails as it would have without the cancel, rather than storing a partial answer.
 */
export function isCancelled({ signal, cancel }: TurnSignals): boolean {
  return cancel?.aborted === true && !signal.aborted;
}
