import type { ServerResponse } from 'node:http';

/**
 * A Server-Sent Events response: numbered events, and a comment line at an interval so idle proxies
 * keep the connection open. Writes after the client left are dropped: the turn goes on regardless.
 */
export class SseStream {
  private nextId = 1;
  private readonly keepalive: NodeJS.Timeout;

  constructor(
    private readonly response: ServerResponse,
    headers: Record<string, string | number | string[] | undefined>,
    keepaliveMs: number,
  ) {
    response.writeHead(200, {
      ...headers,
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      // nginx buffers proxied responses unless told not to.
      'x-accel-buffering': 'no',
    });
    this.keepalive = setInterval(() => this.write(': keepalive\n\n'), keepaliveMs);
    response.once('close', () => clearInterval(this.keepalive));
  }

  send(event: string, data: unknown): void {
    this.write(`id: ${this.nextId++}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  }

  end(): void {
    clearInterval(this.keepalive);
    if (!this.response.writableEnded) this.response.end();
  }

  private write(chunk: string): void {
    if (!this.response.destroyed && !this.response.writableEnded) this.response.write(chunk);
  }
}
