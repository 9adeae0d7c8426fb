import { Module } from '@nestjs/common';
import { AgentService } from './agent.service';
import { AnthropicLlmClient } from './llm/anthropic-llm-client';
import { LlmClient } from './llm/llm-client';
import { McpClientRegistry } from './mcp/mcp-client-registry';
import { MCP_SERVER_DEFINITIONS } from './mcp/mcp-server-definition';
import { ToolRunner } from './tool-runner';
import { ToolCatalogue } from './tools/tool-catalogue';

@Module({
  providers: [
    { provide: LlmClient, useClass: AnthropicLlmClient },
    { provide: MCP_SERVER_DEFINITIONS, useValue: [] },
    McpClientRegistry,
    ToolCatalogue,
    ToolRunner,
    AgentService,
  ],
  exports: [AgentService, McpClientRegistry],
})
export class AgentModule {}
