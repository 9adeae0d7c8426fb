import { Inject, Injectable, Logger, Optional, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { AppConfig } from '../../config/app-config';
import { isTemplated } from './header-template';
import { McpConnection } from './mcp-connection';
import type { McpServerClient, McpServerStatus, ToolCallContext, ToolCallOutcome, ToolList } from './mcp.types';
import { MCP_SERVER_DEFINITIONS, type McpServerDefinition } from './mcp-server-definition';
import { McpTokenIssuer } from './mcp-token-issuer';
import { PerUserMcpClient } from './per-user-mcp-client';

/** The MCP servers the agent may use, shared or per user (docs/architecture.md, "Per-user MCP discovery"). */
@Injectable()
export class McpClientRegistry implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(McpClientRegistry.name);
  private readonly connections = new Map<string, McpServerClient>();
  private readonly perUser: PerUserMcpClient[] = [];
  private shared: ToolList = { version: '0', tools: [], personal: false };
  private sharedKey = '[]';
  private sharedVersion = 0;
  private readonly bootWaitMs: number;

  constructor(
    @Inject(MCP_SERVER_DEFINITIONS) definitions: McpServerDefinition[],
    config: AppConfig,
    /** Signs `{{user_token}}`; only servers whose headers use it need one. */
    @Optional() tokens?: McpTokenIssuer,
  ) {
    this.bootWaitMs = config.mcpBootWaitMs;
    const clientOptions = { defaultTimeoutMs: config.agent.toolTimeoutMs, onChange: () => this.refreshToolList() };
    for (const definition of definitions) {
      if (this.connections.has(definition.name)) throw new Error(`Duplicate MCP server name: ${definition.name}`);
      const perUser = definition.transport.type === 'http' && isTemplated(definition.transport.headers);
      if (perUser) {
        const client = new PerUserMcpClient(definition, { ...clientOptions, tokens });
        this.perUser.push(client);
        this.connections.set(definition.name, client);
      } else {
        this.connections.set(definition.name, new McpConnection(definition, clientOptions));
      }
    }
  }

  async onModuleInit(): Promise<void> {
    const started = Promise.all([...this.connections.values()].map((connection) => connection.start()));
    let timer: NodeJS.Timeout | undefined;
    const waited = new Promise<void>((resolve) => (timer = setTimeout(resolve, this.bootWaitMs)));
    await Promise.race([started, waited]);
    clearTimeout(timer);
    const statuses = this.status();
    const connected = statuses.filter((status) => status.state === 'connected').length;
    const pending = statuses.filter((status) => status.state === 'connecting').map((status) => status.name);
    this.logger.log(
      `${connected} of ${this.connections.size} MCP servers connected, ${this.shared.tools.length} tools` +
        (pending.length > 0 ? `; still connecting: ${pending.join(', ')}` : ''),
    );
  }

  /** Everyone's tools (the same object while they do not change), plus this user's own per-user lists. */
  toolsFor(userId: string): ToolList {
    const own = this.perUser.flatMap((client) => client.ownToolsOf(userId) ?? []);
    if (own.length === 0) return this.shared;
    return {
      version: [this.shared.version, ...own.map((list) => list.revision)].join('/'),
      tools: [...this.shared.tools, ...own.flatMap((list) => list.tools())],
      personal: true,
    };
  }

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

  /** Opens this user's connection to each per-user server whose discovery was refused, to list its tools. */
  async prepareForUser(userId: string): Promise<void> {
    await Promise.all(this.perUser.map((client) => client.prepareFor(userId)));
  }

  status(userId?: string): McpServerStatus[] {
    return [...this.connections.values()].map((connection) => connection.status(userId));
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.all([...this.connections.values()].map((connection) => connection.close()));
  }

  private refreshToolList(): void {
    const tools = [...this.connections.values()]
      .flatMap((connection) => connection.tools())
      .sort((a, b) => compare(a.server, b.server) || compare(a.name, b.name));
    const key = JSON.stringify(tools);
    if (key === this.sharedKey) return;
    this.shared = { version: String(++this.sharedVersion), tools, personal: false };
    this.sharedKey = key;
  }
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
