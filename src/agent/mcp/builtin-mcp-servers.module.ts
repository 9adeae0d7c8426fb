import { DynamicModule, Module, type ModuleMetadata, type Type } from '@nestjs/common';
import { BUILTIN_MCP_SERVERS, type BuiltinMcpServer } from './builtin-mcp-server';

export interface BuiltinMcpServersOptions {
  imports?: ModuleMetadata['imports'];
  servers?: Type<BuiltinMcpServer>[];
}

/** Global, so the agent module stays an ordinary import and never imports a server's feature. */
@Module({})
export class BuiltinMcpServersModule {
  static forRoot({ imports = [], servers = [] }: BuiltinMcpServersOptions = {}): DynamicModule {
    return {
      module: BuiltinMcpServersModule,
      global: true,
      imports,
      providers: [
        {
          provide: BUILTIN_MCP_SERVERS,
          useFactory: (...builtins: BuiltinMcpServer[]) => builtins,
          inject: servers,
        },
      ],
      exports: [BUILTIN_MCP_SERVERS],
    };
  }
}
