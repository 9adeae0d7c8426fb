import type { McpServerStatus, McpToolDescriptor, ToolCallContext, ToolCallOutcome } from './mcp-client-registry';

/** What the registry holds for each MCP server: one shared connection, or one connection per user. */
export interface McpServerClient {
  readonly name: string;
  /** The first connection attempt; never throws (a failure is retried in the background). */
  start(): Promise<void>;
  /** The tools every user is offered. */
  tools(): readonly McpToolDescriptor[];
  /** As this user sees it when given, else as the service does. */
  status(userId?: string): McpServerStatus;
  /** Never throws for a server or tool failure: the outcome is then an error the model can explain. */
  callTool(tool: string, args: Record<string, unknown>, context: ToolCallContext): Promise<ToolCallOutcome>;
  close(): Promise<void>;
}
