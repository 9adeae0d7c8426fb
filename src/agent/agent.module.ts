import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { AgentService } from './agent.service';
import { AnthropicLlmClient } from './llm/anthropic-llm-client';
import { LlmClient } from './llm/llm-client';
import { ApprovalPolicy } from './mcp/approval-policy';
import { McpClientRegistry } from './mcp/mcp-client-registry';
import { mcpServerDefinitionsProvider } from './mcp/mcp-server-definitions.provider';
import { McpTokenIssuer } from './mcp/mcp-token-issuer';
import { SignedMcpTokenIssuer } from './mcp/signed-mcp-token-issuer';
import { ToolCatalogue } from './tools/tool-catalogue';
import { ToolRunner } from './tools/tool-runner';
import { ToolsController } from './tools/tools.controller';
import { ToolsOverviewService } from './tools/tools-overview.service';

@Module({
  // AuthModule: TokenSigner signs the `{{user_token}}` of templated MCP headers.
  imports: [AuthModule],
  controllers: [ToolsController],
  providers: [
    { provide: LlmClient, useClass: AnthropicLlmClient },
    mcpServerDefinitionsProvider,
    { provide: McpTokenIssuer, useClass: SignedMcpTokenIssuer },
    McpClientRegistry,
    ApprovalPolicy,
    ToolCatalogue,
    ToolsOverviewService,
    ToolRunner,
    AgentService,
  ],
  exports: [AgentService],
})
export class AgentModule {}
