export interface McpToolDescriptor {
  server: string;
  name: string;
  title?: string;
  description?: string;
  inputSchema: Record<string, unknown>;
}

/** Who calls a tool; decided by the service, never by the model. */
export interface ToolCallContext {
  userId: string;
  /** Handed to in-process servers as `authInfo.token`. */
  token?: string;
  signal?: AbortSignal;
}

export interface ToolCallOutcome {
  isError: boolean;
  text: string;
  structured?: unknown;
  durationMs: number;
}

export interface ToolList {
  /** For one user, equal versions mean equal tools, so what is derived from them can be cached by it. */
  readonly version: string;
  readonly tools: readonly McpToolDescriptor[];
  /** Some come from this user's own connections: they are theirs alone, never to be shown to another user. */
  readonly personal: boolean;
}

export interface McpServerStatus {
  name: string;
  state: 'connected' | 'connecting' | 'failed';
  tools: number;
  error?: string;
}

export interface McpServerClient {
  readonly name: string;
  /** The first connection attempt; never throws (a failure is retried in the background). */
  start(): Promise<void>;
  tools(): readonly McpToolDescriptor[];
  /** As this user sees it when given, else as the service does. */
  status(userId?: string): McpServerStatus;
  /** Never throws for a server or tool failure: the outcome is then an error the model can explain. */
  callTool(tool: string, args: Record<string, unknown>, context: ToolCallContext): Promise<ToolCallOutcome>;
  close(): Promise<void>;
}
