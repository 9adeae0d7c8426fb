import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from 'pg';
import { AppConfig } from '../config/app-config';

/**
 * How this replica hears what other replicas wrote: `listen` (one LISTEN connection per replica), `poll`
 * (behind a transaction pooler with no direct URL: LISTEN needs a session of its own), or `local` (the
 * embedded database belongs to one process, so every writer is in this one).
 */
export type NotificationMode = 'listen' | 'poll' | 'local';

type Handler = (payload: string) => void;

const FIRST_RECONNECT_MS = 100;
const MAX_RECONNECT_MS = 5_000;

/** PostgreSQL LISTEN on one dedicated connection, reconnected with backoff; see docs/deployment.md. */
@Injectable()
export class DatabaseNotifications implements OnApplicationBootstrap, OnApplicationShutdown {
  readonly mode: NotificationMode;
  private readonly logger = new Logger(DatabaseNotifications.name);
  private readonly handlers = new Map<string, Handler[]>();
  private readonly reconnectHandlers: (() => void)[] = [];
  private wake?: () => void;
  private stopped = false;
  private running?: Promise<void>;

  constructor(private readonly config: AppConfig) {
    this.mode = notificationMode(config);
  }

  /** Register before bootstrap: the channels are LISTENed when the connection opens. */
  on(channel: string, handler: Handler): void {
    this.handlers.set(channel, [...(this.handlers.get(channel) ?? []), handler]);
  }

  /** After a reconnect notifications may have been missed: subscribers catch up. */
  onReconnect(handler: () => void): void {
    this.reconnectHandlers.push(handler);
  }

  onApplicationBootstrap(): void {
    if (this.mode === 'listen' && this.handlers.size > 0) this.running = this.keepListening();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    // The loop wakes, ends its connection once, sees `stopped` and returns.
    this.wake?.();
    await this.running;
  }

  private async keepListening(): Promise<void> {
    const url = this.config.databaseDirectUrl ?? this.config.databaseUrl;
    for (let delayMs = FIRST_RECONNECT_MS, connected = false; !this.stopped;) {
      const client = new Client({ connectionString: url, application_name: 'chat-service-listen' });
      // pg's end() on a client that already ended never settles: end each one once.
      let ended = false;
      const closed = new Promise<void>((resolve) => {
        this.wake = resolve;
        client.once('end', () => {
          ended = true;
          resolve();
        });
        client.on('error', (error) => {
          this.logger.warn(`LISTEN connection lost: ${error.message}`);
          resolve();
        });
      });
      client.on('notification', ({ channel, payload }) => {
        for (const handler of this.handlers.get(channel) ?? []) handler(payload ?? '');
      });
      try {
        await client.connect();
        if (this.stopped) throw new Error('stopping');
        for (const channel of this.handlers.keys()) await client.query(`LISTEN "${channel}"`);
        if (connected) for (const handler of this.reconnectHandlers) handler();
        connected = true;
        delayMs = FIRST_RECONNECT_MS;
        if (!this.stopped) await closed;
      } catch (error) {
        if (!this.stopped) {
          this.logger.warn(`could not LISTEN: ${error instanceof Error ? error.message : String(error)}`);
        }
      }
      if (!ended) await client.end().catch(() => undefined);
      if (this.stopped) return;
      await sleep(delayMs);
      delayMs = Math.min(MAX_RECONNECT_MS, delayMs * 2);
    }
  }
}

export function notificationMode(
  config: Pick<AppConfig, 'databaseUrl' | 'databaseDirectUrl' | 'db'>,
): NotificationMode {
  if (config.databaseUrl === undefined) return 'local';
  if (config.db.pooler === 'pgbouncer' && config.databaseDirectUrl === undefined) return 'poll';
  return 'listen';
}
