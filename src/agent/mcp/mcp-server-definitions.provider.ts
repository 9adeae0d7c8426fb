import type { Provider } from '@nestjs/common';
import { TokenSigner } from '../../auth/token-signer';
import { AppConfig } from '../../config/app-config';
import { BUILTIN_MCP_SERVERS, type BuiltinMcpServer } from './builtin-mcp-server';
import { loadMcpConfig, type McpServerConfig } from './mcp-config';
import { MCP_SERVER_DEFINITIONS, type McpServerDefinition, type McpTransportDefinition } from './mcp-server-definition';

/** Without MCP_CONFIG, the agent uses every built-in server. */
export function builtinDefinitions(builtins: BuiltinMcpServer[]): McpServerDefinition[] {
  return builtins.map((builtin) => ({ name: builtin.name, transport: inMemory(builtin) }));
}

/**
 * The servers the registry connects to: with MCP_CONFIG, exactly the enabled servers its file lists (read
 * once, here, at boot); without it, every built-in server.
 */
export function mcpServerDefinitions(
  config: AppConfig,
  builtins: BuiltinMcpServer[],
  tokenSigner: Pick<TokenSigner, 'canSign'>,
): McpServerDefinition[] {
  if (config.mcpConfigPath === undefined) return builtinDefinitions(builtins);
  const servers = loadMcpConfig(config.mcpConfigPath, {
    builtinNames: builtins.map((builtin) => builtin.name),
    canSignTokens: tokenSigner.canSign(),
  });
  return servers.filter((server) => server.enabled).map((server) => toDefinition(server, builtins));
}

function toDefinition(server: McpServerConfig, builtins: BuiltinMcpServer[]): McpServerDefinition {
  return {
    name: server.name,
    transport: toTransport(server, builtins),
    ...(server.timeoutMs !== undefined && { timeoutMs: server.timeoutMs }),
    ...(server.allowedTools !== undefined && { allowedTools: server.allowedTools }),
    requireApproval: server.requireApproval,
  };
}

function toTransport(server: McpServerConfig, builtins: BuiltinMcpServer[]): McpTransportDefinition {
  switch (server.kind) {
    case 'stdio':
      return { type: 'stdio', command: server.command, args: server.args, env: server.env, cwd: server.cwd };
    case 'http':
      return { type: 'http', url: server.url, headers: server.headers };
    case 'builtin': {
      // The config was validated against these names, so the lookup cannot miss.
      const builtin = builtins.find((candidate) => candidate.name === server.builtin) as BuiltinMcpServer;
      return inMemory(builtin);
    }
  }
}

function inMemory(builtin: BuiltinMcpServer): McpTransportDefinition {
  return { type: 'in-memory', createServer: () => builtin.createServer() };
}

export const mcpServerDefinitionsProvider: Provider = {
  provide: MCP_SERVER_DEFINITIONS,
  useFactory: mcpServerDefinitions,
  inject: [AppConfig, BUILTIN_MCP_SERVERS, TokenSigner],
};
