import { Logger, type OnApplicationShutdown } from '@nestjs/common';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';

export interface McpSessionStoreOptions {
  /** A session unused this long is closed; its client then gets 404 and initializes a new one. */
  idleMs: number;
  /** One more session closes the user's least recently used one, so no user can pile them up. */
  maxSessionsPerUser: number;
}

export const DEFAULT_MCP_SESSION_OPTIONS: McpSessionStoreOptions = { idleMs: 30 * 60_000, maxSessionsPerUser: 10 };

interface McpSession<T extends Transport> {
  userId: string;
  transport: T;
  idleTimer: NodeJS.Timeout;
  lastUsedAt: number;
}

/** Sessions of `/mcp`, bound to their user, in this replica's memory only (docs/deployment.md: affinity or 404). */
export class McpSessionStore<T extends Transport = Transport> implements OnApplicationShutdown {
  private readonly logger = new Logger(McpSessionStore.name);
  private readonly sessions = new Map<string, McpSession<T>>();

  constructor(private readonly options: McpSessionStoreOptions = DEFAULT_MCP_SESSION_OPTIONS) {}

  get size(): number {
    return this.sessions.size;
  }

  add(sessionId: string, userId: string, transport: T): void {
    this.evictBeyondLimit(userId);
    const idleTimer = setTimeout(() => {
      this.logger.debug(`MCP session ${sessionId} idle for ${this.options.idleMs} ms: closing it`);
      void this.close(sessionId);
    }, this.options.idleMs);
    idleTimer.unref();
    this.sessions.set(sessionId, { userId, transport, idleTimer, lastUsedAt: Date.now() });
  }

  /** The session's transport, only for the user who opened it: for anyone else it does not exist. */
  find(sessionId: string, userId: string): T | undefined {
    const session = this.sessions.get(sessionId);
    if (session?.userId !== userId) return undefined;
    session.lastUsedAt = Date.now();
    session.idleTimer.refresh();
    return session.transport;
  }

  remove(sessionId: string): void {
    const session = this.sessions.get(sessionId);
    if (session === undefined) return;
    clearTimeout(session.idleTimer);
    this.sessions.delete(sessionId);
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.sessions.keys()].map((sessionId) => this.close(sessionId)));
  }

  /** After the HTTP server has closed; sessions hold no connection open between requests. */
  onApplicationShutdown(): Promise<void> {
    return this.closeAll();
  }

  private evictBeyondLimit(userId: string): void {
    const own = [...this.sessions.entries()]
      .filter(([, session]) => session.userId === userId)
      .sort(([, a], [, b]) => a.lastUsedAt - b.lastUsedAt);
    const excess = own.length - this.options.maxSessionsPerUser + 1;
    for (const [sessionId] of own.slice(0, Math.max(0, excess))) void this.close(sessionId);
  }

  private async close(sessionId: string): Promise<void> {
    const transport = this.sessions.get(sessionId)?.transport;
    this.remove(sessionId);
    await transport
      ?.close()
      .catch((error: unknown) => this.logger.warn(`Closing MCP session ${sessionId} failed: ${String(error)}`));
  }
}
