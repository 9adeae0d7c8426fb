export const DEFAULT_MAX_USER_CONNECTIONS = 256;
const DEFAULT_USER_CONNECTION_IDLE_MS = 5 * 60_000;

export interface Closable {
  close(): Promise<void>;
}

export interface PerUserConnectionPoolOptions {
  /** Above this many, the least recently used idle connection is closed. */
  maxSize?: number;
  /** A connection unused for this long is closed by the next sweep. */
  idleMs?: number;
  now?: () => number;
}

interface Entry<T> {
  connection: T;
  /** Calls running on it: a busy connection is never evicted, so no call loses its connection midway. */
  busy: number;
  lastUsed: number;
}

/** One connection per user, closed when idle or past the bound (LRU first); a connection in use is never evicted. */
export class PerUserConnectionPool<T extends Closable> {
  /** In least-recently-used order: a Map iterates in insertion order, and every use re-inserts. */
  private readonly entries = new Map<string, Entry<T>>();
  private readonly maxSize: number;
  private readonly idleMs: number;
  private readonly now: () => number;
  private sweepTimer?: NodeJS.Timeout;
  private closed = false;

  constructor(
    private readonly create: (userId: string) => T,
    options: PerUserConnectionPoolOptions = {},
  ) {
    this.maxSize = options.maxSize ?? DEFAULT_MAX_USER_CONNECTIONS;
    this.idleMs = options.idleMs ?? DEFAULT_USER_CONNECTION_IDLE_MS;
    this.now = options.now ?? Date.now;
  }

  async use<R>(userId: string, call: (connection: T) => Promise<R>): Promise<R> {
    const entry = this.acquire(userId);
    try {
      return await call(entry.connection);
    } finally {
      entry.busy--;
      entry.lastUsed = this.now();
    }
  }

  /** The user's open connection, if any, without counting this as a use. */
  peek(userId: string): T | undefined {
    return this.entries.get(userId)?.connection;
  }

  connections(): T[] {
    return [...this.entries.values()].map((entry) => entry.connection);
  }

  sweep(): void {
    const cutoff = this.now() - this.idleMs;
    for (const [userId, entry] of this.entries) {
      if (entry.busy === 0 && entry.lastUsed <= cutoff) this.evict(userId, entry);
    }
    if (this.entries.size === 0) this.stopSweeping();
  }

  async closeAll(): Promise<void> {
    this.closed = true;
    this.stopSweeping();
    const connections = this.connections();
    this.entries.clear();
    await Promise.all(connections.map((connection) => connection.close().catch(() => undefined)));
  }

  private acquire(userId: string): Entry<T> {
    if (this.closed) throw new Error('the connection pool is closed');
    const entry = this.entries.get(userId) ?? { connection: this.create(userId), busy: 0, lastUsed: 0 };
    this.entries.delete(userId);
    entry.busy++;
    entry.lastUsed = this.now();
    this.entries.set(userId, entry);
    this.evictOverflow();
    this.startSweeping();
    return entry;
  }

  private evictOverflow(): void {
    for (const [userId, entry] of this.entries) {
      if (this.entries.size <= this.maxSize) return;
      if (entry.busy === 0) this.evict(userId, entry);
    }
  }

  private evict(userId: string, entry: Entry<T>): void {
    this.entries.delete(userId);
    void entry.connection.close().catch(() => undefined);
  }

  private startSweeping(): void {
    if (this.sweepTimer !== undefined) return;
    // Often enough that a connection outlives its idle time by at most half of it (capped at a minute).
    const everyMs = Math.max(1000, Math.min(this.idleMs / 2, 60_000));
    this.sweepTimer = setInterval(() => this.sweep(), everyMs);
    this.sweepTimer.unref();
  }

  private stopSweeping(): void {
    clearInterval(this.sweepTimer);
    this.sweepTimer = undefined;
  }
}
