import type Anthropic from '@anthropic-ai/sdk';
import { Injectable } from '@nestjs/common';
import { McpClientRegistry, type McpToolDescriptor } from '../mcp/mcp-client-registry';
import { toAnthropicInputSchema } from './anthropic-input-schema';
import { anthropicToolNames } from './anthropic-tool-names';

export interface CatalogueEntry {
  anthropicName: string;
  server: string;
  tool: string;
}

/** A tool as the model is offered it, for people: its name there, its server, and what the server says it does. */
export interface OfferedTool {
  name: string;
  server: string;
  description: string;
}

interface Snapshot {
  version: number;
  tools: Anthropic.Messages.Tool[];
  entries: Map<string, CatalogueEntry>;
  offered: OfferedTool[];
}

/** The MCP tools as Claude sees them, and the way back from a `tool_use` name to a server and tool. */
@Injectable()
export class ToolCatalogue {
  private snapshot?: Snapshot;

  constructor(private readonly registry: McpClientRegistry) {}

  /** The same array instance until the registry's tools change, so the cached prompt prefix stays identical. */
  anthropicTools(): Anthropic.Messages.Tool[] {
    return this.current().tools;
  }

  resolve(anthropicName: string): CatalogueEntry | undefined {
    return this.current().entries.get(anthropicName);
  }

  /** The tools of {@link anthropicTools}, in the same order, without the schema-conversion notes. */
  offeredTools(): readonly OfferedTool[] {
    return this.current().offered;
  }

  private current(): Snapshot {
    const version = this.registry.version;
    if (this.snapshot?.version === version) return this.snapshot;
    const named = anthropicToolNames(this.registry.tools());
    this.snapshot = {
      version,
      tools: named.map(({ anthropicName, tool }) => toAnthropicTool(tool, anthropicName)),
      entries: new Map(
        named.map(({ anthropicName, tool }) => [
          anthropicName,
          { anthropicName, server: tool.server, tool: tool.name },
        ]),
      ),
      offered: named.map(({ anthropicName, tool }) => ({
        name: anthropicName,
        server: tool.server,
        description: describe(tool),
      })),
    };
    return this.snapshot;
  }
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
