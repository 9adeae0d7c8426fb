import { Logger } from '@nestjs/common';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import type { CallToolResult, Tool } from '@modelcontextprotocol/sdk/types.js';
import type { HeaderIdentity } from './header-template';
import type {
  McpServerClient,
  McpServerStatus,
  McpToolDescriptor,
  ToolCallContext,
  ToolCallOutcome,
} from './mcp.types';
import type { McpServerDefinition } from './mcp-server-definition';
import { createMcpTransport, type McpTransportHandle } from './mcp-transport-factory';
import { reconnectDelayMs } from './reconnect-backoff';
import { secretRedactor } from './secret-redactor';
import { errorMessage, isExpiredSession, isTransportFailure, toolCallErrorText } from './tool-call-error';
import { toolResultText } from './tool-result-text';

type McpConnectionState = McpServerStatus['state'];

const CLIENT_INFO = { name: 'chat-service', version: '0.1.0' };
/** For initialize and tools/list: generous, as a stdio server may first have to start (npx, a JVM…). */
const CONNECT_TIMEOUT_MS = 30_000;
/** A connection that lived this long before it dropped restarts its reconnect backoff from the first step. */
const STABLE_CONNECTION_MS = 60_000;

interface Link {
  client: Client;
  handle: McpTransportHandle;
}

export interface McpConnectionOptions {
  defaultTimeoutMs: number;
  onChange?: () => void;
  identity?: HeaderIdentity;
  /** A connect failure that retrying with the same identity cannot fix: the connection then stays failed. */
  isFinal?: (error: unknown) => boolean;
}

/** One client of an MCP server (shared, or one user's), reconnecting with backoff when the server fails. */
export class McpConnection implements McpServerClient {
  /** Shared by all connections, so no two states of any connection have the same revision. */
  private static lastRevision = 0;
  private readonly logger = new Logger(McpConnection.name);
  private state: McpConnectionState = 'connecting';
  private lastError?: string;
  /** The client being connected or connected; undefined while waiting to reconnect. */
  private link?: Link;
  private toolList: McpToolDescriptor[] = [];
  private connecting?: Promise<void>;
  private retryTimer?: NodeJS.Timeout;
  private failedAttempts = 0;
  private connectedAt = 0;
  private closed = false;
  private toolsRevision = ++McpConnection.lastRevision;
  private readonly redact: (text: string) => string;
  private readonly logName: string;

  constructor(
    private readonly definition: McpServerDefinition,
    private readonly options: McpConnectionOptions,
  ) {
    this.redact = secretRedactor(definition);
    this.logName =
      options.identity === undefined ? definition.name : `${definition.name} (as ${options.identity.userId})`;
  }

  get name(): string {
    return this.definition.name;
  }

  async start(): Promise<void> {
    try {
      await this.connectShared();
      this.logger.log(`MCP server ${this.logName} connected with ${this.toolList.length} tools`);
    } catch (error) {
      this.failAndRetry(error);
    }
  }

  tools(): readonly McpToolDescriptor[] {
    return this.state === 'connected' ? this.toolList : [];
  }

  /** Changes whenever `tools()` may have; unique across connections, so it can key a cache of what they offer. */
  get revision(): number {
    return this.toolsRevision;
  }

  status(): McpServerStatus {
    const status: McpServerStatus = { name: this.name, state: this.state, tools: this.tools().length };
    return this.state === 'connected' || this.lastError === undefined ? status : { ...status, error: this.lastError };
  }

  async callTool(tool: string, args: Record<string, unknown>, context: ToolCallContext): Promise<ToolCallOutcome> {
    const started = performance.now();
    const timeoutMs = this.definition.timeoutMs ?? this.options.defaultTimeoutMs;
    const finish = (isError: boolean, text: string, structured?: unknown): ToolCallOutcome => ({
      isError,
      text,
      ...(structured === undefined ? {} : { structured }),
      durationMs: Math.round(performance.now() - started),
    });
    const link = this.link;
    if (link === undefined || this.state !== 'connected') {
      return finish(true, `Tool ${tool} on server ${this.name} is unavailable: the server is not connected`);
    }
    if (!this.toolList.some((descriptor) => descriptor.name === tool)) {
      return finish(true, `Tool ${tool} is not available on server ${this.name}`);
    }
    try {
      const result = await this.invokeRenewingSession(link, tool, args, context, timeoutMs);
      const outcome = finish(result.isError === true, toolResultText(result), result.structuredContent);
      this.logger.debug(
        `${tool} on ${this.logName}: ${outcome.isError ? 'tool error' : 'ok'} in ${outcome.durationMs} ms`,
      );
      return outcome;
    } catch (error) {
      const cancelled = context.signal?.aborted === true;
      if (!cancelled && isTransportFailure(error)) this.lose(link, error);
      const text = this.redact(toolCallErrorText(error, { server: this.name, tool, timeoutMs, cancelled }));
      this.logger.warn(text);
      return finish(true, text);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retryTimer);
    const link = this.link;
    this.link = undefined;
    await link?.client.close().catch(() => undefined);
    // An attempt still in flight closes its own client once it sees it was superseded.
    await this.connecting?.catch(() => undefined);
  }

  private async invokeRenewingSession(
    link: Link,
    tool: string,
    args: Record<string, unknown>,
    context: ToolCallContext,
    timeoutMs: number,
  ): Promise<CallToolResult> {
    try {
      return await this.invoke(link, tool, args, context, timeoutMs);
    } catch (error) {
      if (!isExpiredSession(error)) throw error;
      // The server never saw the call (404 = unknown session), so one retry on a new session is safe.
      this.logger.log(`MCP server ${this.logName} forgot the session; starting a new one`);
      return this.invoke(await this.renewSession(link), tool, args, context, timeoutMs);
    }
  }

  private async invoke(
    link: Link,
    tool: string,
    args: Record<string, unknown>,
    context: ToolCallContext,
    timeoutMs: number,
  ): Promise<CallToolResult> {
    const authInfo: AuthInfo = {
      token: context.token ?? '',
      clientId: CLIENT_INFO.name,
      scopes: [],
      extra: { userId: context.userId },
    };
    const options = { timeout: timeoutMs, maxTotalTimeout: timeoutMs, signal: context.signal };
    // The declared result also admits the pre-2024 `{ toolResult }` shape, which the default schema never yields.
    return (await link.handle.runAs(authInfo, () =>
      link.client.callTool({ name: tool, arguments: args }, undefined, options),
    )) as CallToolResult;
  }

  private async renewSession(expired: Link): Promise<Link> {
    if (this.link === expired) {
      this.link = undefined;
      void expired.client.close().catch(() => undefined);
    }
    try {
      // Another call that hit the same expired session may already have started, or finished, the new one.
      if (this.link === undefined || this.state !== 'connected') await this.connectShared();
    } catch (error) {
      this.failAndRetry(error);
      throw error;
    }
    if (this.link === undefined) throw new Error('the connection closed while starting a new session');
    return this.link;
  }

  /** Concurrent triggers (start, a timer, several expired sessions) share one attempt. */
  private connectShared(): Promise<void> {
    this.connecting ??= this.connect().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  private async connect(): Promise<void> {
    if (this.closed) throw new Error('the registry is shut down');
    // A failed server stays `failed` (with its error) while it is retried, so its status does not flap.
    if (this.state !== 'failed') this.setState('connecting');
    const client: Client = new Client(CLIENT_INFO, {
      listChanged: { tools: { autoRefresh: false, onChanged: () => this.onToolListChanged(client) } },
    });
    client.onclose = () => this.onClientClosed(client);
    client.onerror = (error) => this.logger.debug(`MCP server ${this.logName}: ${this.redact(error.message)}`);
    try {
      const handle = await createMcpTransport(this.definition, {
        logger: this.logger,
        identity: this.options.identity,
        redact: this.redact,
      });
      const link: Link = { client, handle };
      this.link = link;
      await client.connect(link.handle.transport, { timeout: CONNECT_TIMEOUT_MS });
      await this.loadTools(client);
      if (this.link !== link) throw new Error('the connection closed while connecting');
      this.connectedAt = Date.now();
      this.lastError = undefined;
      this.setState('connected');
    } catch (error) {
      if (this.link?.client === client) this.link = undefined;
      await client.close().catch(() => undefined);
      throw error;
    }
  }

  private async loadTools(client: Client): Promise<void> {
    const tools: Tool[] = [];
    let cursor: string | undefined;
    do {
      const page = await client.listTools(cursor === undefined ? undefined : { cursor }, {
        timeout: CONNECT_TIMEOUT_MS,
      });
      tools.push(...page.tools);
      cursor = page.nextCursor;
    } while (cursor !== undefined);
    if (this.link?.client !== client) return;
    const allowed = this.definition.allowedTools;
    this.toolList = tools
      .filter((tool) => allowed === undefined || allowed.includes(tool.name))
      .map((tool) => this.toDescriptor(tool));
    this.changed();
  }

  private toDescriptor(tool: Tool): McpToolDescriptor {
    return {
      server: this.name,
      name: tool.name,
      title: tool.title ?? tool.annotations?.title,
      description: tool.description,
      inputSchema: tool.inputSchema,
    };
  }

  private onToolListChanged(client: Client): void {
    if (this.link?.client !== client) return;
    this.loadTools(client).catch((error: unknown) =>
      this.logger.warn(`MCP server ${this.logName}: could not refresh its tools: ${this.redact(errorMessage(error))}`),
    );
  }

  private onClientClosed(client: Client): void {
    // Closes we caused, and those of an attempt that reports its own failure, need nothing more.
    const link = this.link;
    if (link?.client !== client || this.state !== 'connected') return;
    this.lose(link, new Error('the server closed the connection'));
  }

  /** The connected server crashed or went away: its tools leave the list until it is back. */
  private lose(link: Link, error: unknown): void {
    if (this.link !== link) return;
    this.link = undefined;
    void link.client.close().catch(() => undefined);
    if (Date.now() - this.connectedAt >= STABLE_CONNECTION_MS) this.failedAttempts = 0;
    this.failAndRetry(error);
  }

  private failAndRetry(error: unknown): void {
    this.fail(error);
    if (this.options.isFinal?.(error) !== true) this.scheduleReconnect();
  }

  private fail(error: unknown): void {
    if (this.closed) return;
    this.lastError = this.redact(errorMessage(error));
    this.setState('failed');
    this.logger.warn(`MCP server ${this.logName} is unavailable: ${this.lastError}`);
  }

  private scheduleReconnect(): void {
    if (this.closed || this.retryTimer !== undefined) return;
    const delayMs = reconnectDelayMs(this.failedAttempts++);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      void this.reconnect();
    }, delayMs);
    this.retryTimer.unref();
  }

  private async reconnect(): Promise<void> {
    try {
      await this.connectShared();
      this.logger.log(`MCP server ${this.logName} reconnected with ${this.toolList.length} tools`);
    } catch (error) {
      this.failAndRetry(error);
    }
  }

  private setState(state: McpConnectionState): void {
    if (this.state === state) return;
    this.state = state;
    this.changed();
  }

  private changed(): void {
    this.toolsRevision = ++McpConnection.lastRevision;
    this.options.onChange?.();
  }
}
