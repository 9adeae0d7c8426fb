import { readFileSync } from 'node:fs';

/**
 * The server names of MCP_CONFIG: the `aud` of every `{{user_token}}`, so never an audience of this service.
 * Read here rather than from the agent (auth imports no feature); an unreadable file gives none, and the
 * agent then stops the boot with the precise problem.
 */
export function mcpServerAudiences(mcpConfigPath: string | undefined): ReadonlySet<string> {
  if (mcpConfigPath === undefined) return new Set();
  try {
    const config: unknown = JSON.parse(readFileSync(mcpConfigPath, 'utf8'));
    const servers =
      typeof config === 'object' && config !== null ? (config as { mcpServers?: unknown }).mcpServers : undefined;
    return new Set(typeof servers === 'object' && servers !== null ? Object.keys(servers) : []);
  } catch {
    return new Set();
  }
}
