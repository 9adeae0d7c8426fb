import type { McpServerStatus, McpToolDescriptor, ToolCallContext, ToolCallOutcome } from './mcp-client-registry';

/** What the registry holds for each MCP server: one shared connection, or one connection per user. */
export interface McpServerClient {
  readonly name: string;
  /** The first connection attempt; never throws (a failure is retried in the background). */
  start(): Promise<void>;
  tools(): readonly McpToolDescriptor[];
  status(): McpServerStatus;
  /** Never throws for a server or tool failure: the outcome is then an error the model can explain. */
  callTool(tool: string, args: Record<string, unknown>, context: ToolCallContext): Promise<ToolCallOutcome>;
  close(): Promise<void>;
}
