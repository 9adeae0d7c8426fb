import { SERVICE_IDENTITY } from '../../common/identity/service-identity';
import { McpConnection } from './mcp-connection';
import type {
  McpServerClient,
  McpServerStatus,
  McpToolDescriptor,
  ToolCallContext,
  ToolCallOutcome,
} from './mcp.types';
import type { McpServerDefinition } from './mcp-server-definition';
import type { McpTokenIssuer } from './mcp-token-issuer';
import { hasUnsafeHeaderChars, usesPlaceholder, type HeaderIdentity } from './header-template';
import { isRefusal } from './tool-call-error';
import { PerUserConnectionPool, type Closable } from './per-user-connection-pool';

export { SERVICE_IDENTITY } from '../../common/identity/service-identity';

export interface PerUserMcpClientOptions {
  defaultTimeoutMs: number;
  onChange: () => void;
  /** Required when a header uses `{{user_token}}`. */
  tokens?: McpTokenIssuer;
}

export interface RevisedToolList {
  readonly revision: number;
  tools(): readonly McpToolDescriptor[];
}

interface UserConnection extends Closable {
  connection: McpConnection;
  /** Settles (never rejects) once the first connection attempt is over. */
  started: Promise<void>;
}

/**
 * A server whose headers carry the caller's identity: one connection per user. Discovery speaks for
 * {@link SERVICE_IDENTITY}; when it is not connected, a user is offered only what their own connection lists
 * (a list given to one user may name them). See docs/architecture.md, "Per-user MCP discovery".
 */
export class PerUserMcpClient implements McpServerClient {
  private readonly discovery: McpConnection;
  private readonly users: PerUserConnectionPool<UserConnection>;
  private readonly sendsUserId: boolean;
  private discoveryRefused = false;
  private closed = false;

  constructor(
    private readonly definition: McpServerDefinition,
    private readonly options: PerUserMcpClientOptions,
  ) {
    const headers = definition.transport.type === 'http' ? definition.transport.headers : undefined;
    if (usesPlaceholder(headers, 'user_token') && options.tokens === undefined) {
      throw new Error(`MCP server ${definition.name} uses {{user_token}} but no token issuer is configured`);
    }
    this.sendsUserId = usesPlaceholder(headers, 'user_id');
    this.discovery = new McpConnection(definition, {
      defaultTimeoutMs: options.defaultTimeoutMs,
      onChange: options.onChange,
      identity: this.identityOf(SERVICE_IDENTITY),
      isFinal: (error) => {
        this.discoveryRefused = isRefusal(error);
        return this.discoveryRefused;
      },
    });
    this.users = new PerUserConnectionPool((userId) => this.connectUser(userId));
  }

  get name(): string {
    return this.definition.name;
  }

  start(): Promise<void> {
    return this.discovery.start();
  }

  /** The tools every user is offered: the server's answer to the service's own discovery. */
  tools(): readonly McpToolDescriptor[] {
    return this.discovery.tools();
  }

  /** This user's own connection, while it (not discovery) is what lists the server's tools for them. */
  ownToolsOf(userId: string): RevisedToolList | undefined {
    return this.ownConnectionOf(userId);
  }

  status(userId?: string): McpServerStatus {
    const own = userId === undefined ? undefined : this.ownConnectionOf(userId);
    if (own !== undefined) return own.status();
    const discovery = this.discovery.status();
    if (!this.discoveryRefused || discovery.state !== 'failed') return discovery;
    return {
      ...discovery,
      error: `tool discovery as ${SERVICE_IDENTITY} was refused (${discovery.error}); each user is offered the tools their own connection lists`,
    };
  }

  async prepareFor(userId: string): Promise<void> {
    if (!this.discoveryRefused || this.closed || this.refusalOf(userId) !== undefined) return;
    await this.users.use(userId, (user) => user.started);
  }

  async callTool(tool: string, args: Record<string, unknown>, context: ToolCallContext): Promise<ToolCallOutcome> {
    const refusal = this.closed ? 'the server is not connected' : this.refusalOf(context.userId);
    if (refusal !== undefined) {
      return { isError: true, text: `Tool ${tool} on server ${this.name} is unavailable: ${refusal}`, durationMs: 0 };
    }
    // Known to be missing: no need to open a connection for this user to say so.
    if (this.discovery.status().state === 'connected' && !this.discovery.tools().some((known) => known.name === tool)) {
      return { isError: true, text: `Tool ${tool} is not available on server ${this.name}`, durationMs: 0 };
    }
    return this.users.use(context.userId, async (user) => {
      await user.started;
      return user.connection.callTool(tool, args, context);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([this.discovery.close(), this.users.closeAll()]);
  }

  private ownConnectionOf(userId: string): McpConnection | undefined {
    if (this.discovery.status().state === 'connected') return undefined;
    return this.users.peek(userId)?.connection;
  }

  private refusalOf(userId: string): string | undefined {
    if (userId === SERVICE_IDENTITY) return `the user id ${SERVICE_IDENTITY} is reserved for the service itself`;
    if (this.sendsUserId && hasUnsafeHeaderChars(userId)) return 'the user id cannot be sent in an HTTP header';
    return undefined;
  }

  private connectUser(userId: string): UserConnection {
    // No onChange: its tools are this user's alone, and its revision tells their catalogue when they change.
    const connection = new McpConnection(this.definition, {
      defaultTimeoutMs: this.options.defaultTimeoutMs,
      identity: this.identityOf(userId),
    });
    return { connection, started: connection.start(), close: () => connection.close() };
  }

  private identityOf(userId: string): HeaderIdentity {
    const tokens = this.options.tokens;
    return {
      userId,
      userToken: () => {
        if (tokens === undefined) throw new Error('no token issuer is configured');
        return tokens.tokenFor(this.name, userId);
      },
    };
  }
}
