import { Injectable } from '@nestjs/common';
import { McpClientRegistry } from '../mcp/mcp-client-registry';
import type { McpServerStatus } from '../mcp/mcp.types';
import { ToolCatalogue, type OfferedTool } from './tool-catalogue';

export interface ToolsOverview {
  tools: readonly OfferedTool[];
  servers: McpServerStatus[];
}

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
