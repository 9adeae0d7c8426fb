import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';

/**
 * A first-party MCP server that runs in-process. Feature modules (e.g. tasks) provide one; the agent
 * connects to it through an in-memory transport and never imports the feature itself.
 */
export abstract class BuiltinMcpServer {
  /** The name `MCP_CONFIG` refers to it by (`{ "builtin": "<name>" }`). */
  abstract readonly name: string;
  /** A fresh server instance (one per connection; the tool handlers read the caller from `authInfo`). */
  abstract createServer(): McpServer;
}

/** DI token for the `BuiltinMcpServer[]` the application offers. */
export const BUILTIN_MCP_SERVERS = Symbol('BUILTIN_MCP_SERVERS');
