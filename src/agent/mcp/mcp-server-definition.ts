import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';

export type McpTransportDefinition =
  | { type: 'stdio'; command: string; args?: string[]; env?: Record<string, string>; cwd?: string }
  /** Header values may use `{{user_id}}` and `{{user_token}}`: the server then gets one connection per user. */
  | { type: 'http'; url: string; headers?: Record<string, string> }
  | { type: 'in-memory'; createServer: () => McpServer };

/** Which of a server's tools run only once the user approved the call (SPEC §5.3). */
export type ApprovalRequirement = 'never' | 'always' | { tools: string[] };

export interface McpServerDefinition {
  /** Unique; also the prefix of its tools' names when two servers offer the same tool name. */
  name: string;
  transport: McpTransportDefinition;
  /** Per-call timeout; falls back to `CHAT_TOOL_TIMEOUT_MS`. */
  timeoutMs?: number;
  allowedTools?: string[];
  /** Set by the operator only: outside servers' annotations (`destructiveHint`) never decide it. Absent: never. */
  requireApproval?: ApprovalRequirement;
}

export const MCP_SERVER_DEFINITIONS = Symbol('MCP_SERVER_DEFINITIONS');
