/** What the bench and its simulator process (simulator-child.ts) agree on. */

export interface SimulatorStats {
  /** `/v1/messages` calls that reached a reply. */
  requests: number;
  /** Request body bytes sent to the model, in total and the largest. */
  bytes: number;
  maxBytes: number;
  /** Entries of `messages` sent, in total. */
  messages: number;
  /**
   * Time the simulator held the exchanges, in total: from a request's headers to the end of its answer
   * (reading the body, parsing it, answering). The model's share of a turn, not the service's.
   */
  modelMs: number;
  toolUses: number;
  /** Names of the tools offered in the last request. */
  lastTools: string[];
}

/** A user message containing this asks the simulator for a tool call (when SIM_TOOL is set). */
export const TOOL_TRIGGER = 'add a task';

/**
 * With SIM_PACE (this as JSON) or a `pace` message, every streamed answer is paced: `deltas` text deltas, the
 * first `firstDeltaMs` after the opening frames, then one every `intervalMs` (see SimPace).
 */
export interface PaceSpec {
  deltas: number;
  firstDeltaMs: number;
  intervalMs: number;
}

/**
 * A user message carrying `[turn <tag>]` has the instant its first text delta was written (clock.ts) kept under
 * `<tag>`, for the bench to collect with a `first-deltas` request.
 */
export const turnTag = (tag: string): string => `[turn ${tag}]`;
export const TURN_TAG = /\[turn ([\w.-]+)\]/;
