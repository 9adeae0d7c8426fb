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
