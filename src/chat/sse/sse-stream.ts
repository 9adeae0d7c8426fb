import type { ServerResponse } from 'node:http';

export interface SseStreamOptions {
  /** A comment line at this interval keeps idle proxies from closing the connection. */
  keepaliveMs: number;
  /** The `retry:` sent first: how long an EventSource client waits before reconnecting. */
  retryMs: number;
  /** A client that lets more than this pile up unsent (it does not read) is disconnected. */
  maxBufferBytes: number;
  onOverflow?: (bufferedBytes: number) => void;
}

/** Writes after the client left are dropped: the turn goes on regardless. */
export class SseStream {
  private readonly keepalive: NodeJS.Timeout;

  constructor(
    private readonly response: ServerResponse,
    headers: Record<string, string | number | string[] | undefined>,
    private readonly options: SseStreamOptions,
  ) {
    response.writeHead(200, {
      ...headers,
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      // nginx buffers proxied responses unless told not to.
      'x-accel-buffering': 'no',
    });
    this.write(`retry: ${options.retryMs}\n\n`);
    this.keepalive = setInterval(() => this.write(': keepalive\n\n'), options.keepaliveMs);
    response.once('close', () => clearInterval(this.keepalive));
  }

  /** `id` is the event's place in its turn (SPEC §5.2): the same in every stream of that turn. */
  send(id: number, event: string, data: unknown): void {
    this.write(`id: ${id}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  }

  get closed(): boolean {
    return this.response.destroyed || this.response.writableEnded;
  }

  end(): void {
    clearInterval(this.keepalive);
    if (!this.response.writableEnded && !this.response.destroyed) this.response.end();
  }

  private write(chunk: string): void {
    if (this.response.destroyed || this.response.writableEnded) return;
    // What earlier writes left unsent (not this chunk, however large): it only grows when the client stops reading.
    const buffered = this.response.writableLength;
    if (buffered > this.options.maxBufferBytes) {
      this.response.destroy();
      this.options.onOverflow?.(buffered);
      return;
    }
    this.response.write(chunk);
  }
}
