import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { AppConfig } from '../../config/app-config';
import { McpConnection } from './mcp-connection';
import { MCP_SERVER_DEFINITIONS, type McpServerDefinition } from './mcp-server-definition';

export interface McpToolDescriptor {
  server: string;
  name: string;
  title?: string;
  description?: string;
  inputSchema: Record<string, unknown>;
}

/** Who calls a tool; decided by the service, never by the model. */
export interface ToolCallContext {
  userId: string;
  /** Handed to in-process servers as `authInfo.token`. */
  token?: string;
  signal?: AbortSignal;
  /** Overrides the server's `timeoutMs` and the configured default. */
  timeoutMs?: number;
}

export interface ToolCallOutcome {
  isError: boolean;
  /** What the model sees. */
  text: string;
  /** The tool's `structuredContent`, when it returned one. */
  structured?: unknown;
  durationMs: number;
}

export interface McpServerStatus {
  name: string;
  state: 'connected' | 'connecting' | 'failed';
  tools: number;
  error?: string;
}

/**
 * The MCP servers the agent may use, one long-lived client each. A server that is down, slow or crashing
 * costs only its own tools: calls to it come back as tool errors while it is reconnected in the background.
 */
@Injectable()
export class McpClientRegistry implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(McpClientRegistry.name);
  private readonly connections = new Map<string, McpConnection>();
  private toolList: McpToolDescriptor[] = [];
  private toolListKey = '[]';
  private toolListVersion = 0;

  constructor(@Inject(MCP_SERVER_DEFINITIONS) definitions: McpServerDefinition[], config: AppConfig) {
    for (const definition of definitions) {
      if (this.connections.has(definition.name)) throw new Error(`Duplicate MCP server name: ${definition.name}`);
      const connection = new McpConnection(definition, config.chat.toolTimeoutMs, () => this.refreshToolList());
      this.connections.set(definition.name, connection);
    }
  }

  /** Increments whenever `tools()` changes, so consumers can cache what they derive from it. */
  get version(): number {
    return this.toolListVersion;
  }

  async onModuleInit(): Promise<void> {
    await Promise.all([...this.connections.values()].map((connection) => connection.start()));
    const connected = this.status().filter((status) => status.state === 'connected').length;
    this.logger.log(`${connected} of ${this.connections.size} MCP servers connected, ${this.toolList.length} tools`);
  }

  /** Tools of the connected servers, from a cache kept current by the servers' notifications. */
  tools(): McpToolDescriptor[] {
    return this.toolList;
  }

  /** Never throws for a server or tool failure: the outcome is then an error the model can explain. */
  async callTool(
    server: string,
    tool: string,
    args: Record<string, unknown>,
    context: ToolCallContext,
  ): Promise<ToolCallOutcome> {
    const connection = this.connections.get(server);
    if (connection === undefined) {
      return { isError: true, text: `Tool ${tool} is unavailable: there is no MCP server ${server}`, durationMs: 0 };
    }
    return connection.callTool(tool, args, context);
  }

  status(): McpServerStatus[] {
    return [...this.connections.values()].map((connection) => connection.status());
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.all([...this.connections.values()].map((connection) => connection.close()));
  }

  private refreshToolList(): void {
    const tools = [...this.connections.values()]
      .flatMap((connection) => connection.tools())
      .sort((a, b) => compare(a.server, b.server) || compare(a.name, b.name));
    const key = JSON.stringify(tools);
    if (key === this.toolListKey) return;
    this.toolList = tools;
    this.toolListKey = key;
    this.toolListVersion++;
  }
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
