import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';

/** An in-process MCP server a feature (tasks) provides; the agent never imports the feature. */
export abstract class BuiltinMcpServer {
  /** The name `MCP_CONFIG` refers to it by (`{ "builtin": "<name>" }`). */
  abstract readonly name: string;
  /** A fresh server instance (one per connection; the tool handlers read the caller from `authInfo`). */
  abstract createServer(): McpServer;
}

export const BUILTIN_MCP_SERVERS = Symbol('BUILTIN_MCP_SERVERS');
