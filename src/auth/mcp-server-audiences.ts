import { readFileSync } from 'node:fs';

/** MCP_CONFIG's server names, never our audience; unreadable gives none (the agent then fails the boot). */
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
