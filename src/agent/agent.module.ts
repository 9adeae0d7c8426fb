import { DynamicModule, Module, type ModuleMetadata, type Type } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { AgentService } from './agent.service';
import { AnthropicLlmClient } from './llm/anthropic-llm-client';
import { LlmClient } from './llm/llm-client';
import { BUILTIN_MCP_SERVERS, type BuiltinMcpServer } from './mcp/builtin-mcp-server';
import { McpClientRegistry } from './mcp/mcp-client-registry';
import { mcpServerDefinitionsProvider } from './mcp/mcp-server-definitions.provider';
import { McpTokenIssuer } from './mcp/mcp-token-issuer';
import { SignedMcpTokenIssuer } from './mcp/signed-mcp-token-issuer';
import { ToolRunner } from './tools/tool-runner';
import { ToolsController } from './tools/tools.controller';
import { ToolCatalogue } from './tools/tool-catalogue';
import { ToolsOverviewService } from './tools/tools-overview.service';

export interface AgentModuleOptions {
  /** Modules that provide the built-in MCP servers. */
  imports?: ModuleMetadata['imports'];
  builtinServers?: Type<BuiltinMcpServer>[];
}

/** Global: configured once by the application with its built-in MCP servers. */
@Module({})
export class AgentModule {
  static forRoot({ imports = [], builtinServers = [] }: AgentModuleOptions = {}): DynamicModule {
    return {
      module: AgentModule,
      global: true,
      // AuthModule: TokenSigner signs the `{{user_token}}` of templated MCP headers.
      imports: [AuthModule, ...imports],
      controllers: [ToolsController],
      providers: [
        { provide: LlmClient, useClass: AnthropicLlmClient },
        {
          provide: BUILTIN_MCP_SERVERS,
          useFactory: (...servers: BuiltinMcpServer[]) => servers,
          inject: builtinServers,
        },
        mcpServerDefinitionsProvider,
        { provide: McpTokenIssuer, useClass: SignedMcpTokenIssuer },
        McpClientRegistry,
        ToolCatalogue,
        ToolsOverviewService,
        ToolRunner,
        AgentService,
      ],
      exports: [AgentService, McpClientRegistry],
    };
  }
}
