import { createHash } from 'node:crypto';

export const MAX_TOOL_NAME_LENGTH = 128;
const HASH_LENGTH = 8;

export interface ServerTool {
  server: string;
  name: string;
}

export interface NamedTool<T extends ServerTool> {
  anthropicName: string;
  tool: T;
}

/** Names Anthropic accepts, unique across servers; sorted, so the same tools always give the same list. */
export function anthropicToolNames<T extends ServerTool>(tools: readonly T[]): NamedTool<T>[] {
  const sorted = [...tools].sort((a, b) => compare(a.server, b.server) || compare(a.name, b.name));
  const serversByName = new Map<string, Set<string>>();
  for (const tool of sorted) {
    const plain = sanitize(tool.name);
    serversByName.set(plain, (serversByName.get(plain) ?? new Set()).add(tool.server));
  }
  const candidates = sorted.map((tool) => {
    const plain = sanitize(tool.name);
    return (serversByName.get(plain)?.size ?? 0) > 1 ? `${sanitize(tool.server)}__${plain}` : plain;
  });
  const candidateCounts = countBy(candidates);
  return sorted.map((tool, index) => {
    const candidate = candidates[index];
    const unique = (candidateCounts.get(candidate) ?? 0) === 1 && candidate.length <= MAX_TOOL_NAME_LENGTH;
    return { anthropicName: unique ? candidate : withOriginHash(candidate, tool), tool };
  });
}

function sanitize(name: string): string {
  return name.replace(/[^a-zA-Z0-9_-]/g, '_') || '_';
}

function withOriginHash(name: string, tool: ServerTool): string {
  const hash = createHash('sha256').update(`${tool.server}\0${tool.name}`).digest('hex').slice(0, HASH_LENGTH);
  return `${name.slice(0, MAX_TOOL_NAME_LENGTH - HASH_LENGTH - 1)}_${hash}`;
}

function countBy(values: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const value of values) counts.set(value, (counts.get(value) ?? 0) + 1);
  return counts;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
