import type { Provider } from '@nestjs/common';
import { BUILTIN_MCP_SERVERS, type BuiltinMcpServer } from './builtin-mcp-server';
import { MCP_SERVER_DEFINITIONS, type McpServerDefinition } from './mcp-server-definition';

/** Without MCP_CONFIG, the agent uses every built-in server. */
export function builtinDefinitions(builtins: BuiltinMcpServer[]): McpServerDefinition[] {
  return builtins.map((builtin) => ({
    name: builtin.name,
    transport: { type: 'in-memory', createServer: () => builtin.createServer() },
  }));
}

export const mcpServerDefinitionsProvider: Provider = {
  provide: MCP_SERVER_DEFINITIONS,
  useFactory: builtinDefinitions,
  inject: [BUILTIN_MCP_SERVERS],
};
