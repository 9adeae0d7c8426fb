import { Injectable } from '@nestjs/common';
import { McpClientRegistry } from '../mcp/mcp-client-registry';
import type { McpServerStatus } from '../mcp/mcp.types';
import { ToolCatalogue, type OfferedTool } from './tool-catalogue';

export interface ToolsOverview {
  tools: readonly OfferedTool[];
  servers: McpServerStatus[];
}

/** What a user's agent can call right now, and the state of every MCP server behind it. */
@Injectable()
export class ToolsOverviewService {
  constructor(
    private readonly registry: McpClientRegistry,
    private readonly catalogue: ToolCatalogue,
  ) {}

  async forUser(userId: string): Promise<ToolsOverview> {
    await this.registry.prepareForUser(userId);
    return { tools: this.catalogue.offeredTools(userId), servers: this.registry.status(userId) };
  }
}
