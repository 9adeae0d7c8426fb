import { DynamicModule, Module, type ModuleMetadata, type Type } from '@nestjs/common';
import { AgentService } from './agent.service';
import { AnthropicLlmClient } from './llm/anthropic-llm-client';
import { LlmClient } from './llm/llm-client';
import { BUILTIN_MCP_SERVERS, type BuiltinMcpServer } from './mcp/builtin-mcp-server';
import { McpClientRegistry } from './mcp/mcp-client-registry';
import { mcpServerDefinitionsProvider } from './mcp/mcp-server-definitions.provider';
import { ToolRunner } from './tool-runner';
import { ToolCatalogue } from './tools/tool-catalogue';

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
      imports,
      providers: [
        { provide: LlmClient, useClass: AnthropicLlmClient },
        {
          provide: BUILTIN_MCP_SERVERS,
          useFactory: (...servers: BuiltinMcpServer[]) => servers,
          inject: builtinServers,
        },
        mcpServerDefinitionsProvider,
        McpClientRegistry,
        ToolCatalogue,
        ToolRunner,
        AgentService,
      ],
      exports: [AgentService, McpClientRegistry],
    };
  }
}
