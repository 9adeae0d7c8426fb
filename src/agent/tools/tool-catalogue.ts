import type Anthropic from '@anthropic-ai/sdk';
import { Injectable } from '@nestjs/common';
import { McpClientRegistry } from '../mcp/mcp-client-registry';
import type { McpToolDescriptor, ToolList } from '../mcp/mcp.types';
import { DEFAULT_MAX_USER_CONNECTIONS } from '../mcp/per-user-connection-pool';
import { toAnthropicInputSchema } from './anthropic-input-schema';
import { anthropicToolNames } from './anthropic-tool-names';

/** As many as the users who may have connections of their own to a per-user server at once. */
const MAX_PERSONAL_SNAPSHOTS = DEFAULT_MAX_USER_CONNECTIONS;

export interface CatalogueEntry {
  anthropicName: string;
  server: string;
  tool: string;
}

export interface OfferedTool {
  name: string;
  server: string;
  description: string;
}

interface Snapshot {
  version: string;
  tools: Anthropic.Messages.Tool[];
  entries: Map<string, CatalogueEntry>;
  offered: OfferedTool[];
}

/** One snapshot for everyone, one per user with tools of their own (LRU-bounded), rebuilt only on a new version. */
@Injectable()
export class ToolCatalogue {
  private shared?: Snapshot;
  /** In least-recently-used order: a Map iterates in insertion order, and every use re-inserts. */
  private readonly personal = new Map<string, Snapshot>();

  constructor(private readonly registry: McpClientRegistry) {}

  /** The same array instance until the user's tools change, so the cached prompt prefix stays identical. */
  anthropicTools(userId: string): Anthropic.Messages.Tool[] {
    return this.current(userId).tools;
  }

  resolve(userId: string, anthropicName: string): CatalogueEntry | undefined {
    return this.current(userId).entries.get(anthropicName);
  }

  offeredTools(userId: string): readonly OfferedTool[] {
    return this.current(userId).offered;
  }

  private current(userId: string): Snapshot {
    const list = this.registry.toolsFor(userId);
    if (!list.personal) {
      this.personal.delete(userId);
      if (this.shared?.version !== list.version) this.shared = snapshotOf(list);
      return this.shared;
    }
    const cached = this.personal.get(userId);
    const snapshot = cached?.version === list.version ? cached : snapshotOf(list);
    this.personal.delete(userId);
    this.personal.set(userId, snapshot);
    if (this.personal.size > MAX_PERSONAL_SNAPSHOTS) {
      const [leastRecent] = this.personal.keys();
      this.personal.delete(leastRecent);
    }
    return snapshot;
  }
}

function snapshotOf(list: ToolList): Snapshot {
  const named = anthropicToolNames(list.tools);
  return {
    version: list.version,
    tools: named.map(({ anthropicName, tool }) => toAnthropicTool(tool, anthropicName)),
    entries: new Map(
      named.map(({ anthropicName, tool }) => [anthropicName, { anthropicName, server: tool.server, tool: tool.name }]),
    ),
    offered: named.map(({ anthropicName, tool }) => ({
      name: anthropicName,
      server: tool.server,
      description: describe(tool),
    })),
  };
}

export function toAnthropicTool(descriptor: McpToolDescriptor, anthropicName: string): Anthropic.Messages.Tool {
  const { inputSchema, lostConstraint } = toAnthropicInputSchema(descriptor.inputSchema);
  const description = describe(descriptor);
  return {
    name: anthropicName,
    description: lostConstraint === undefined ? description : `${description}\n\n${lostConstraint}`,
    input_schema: inputSchema,
  };
}

function describe(descriptor: McpToolDescriptor): string {
  // `||`, not `??`: an empty description tells the model nothing either.
  return descriptor.description || descriptor.title || descriptor.name;
}
