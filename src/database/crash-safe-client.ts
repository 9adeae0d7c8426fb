import { Client } from 'pg';

/**
 * pg-pool listens for a client's errors while it idles and, with `once`, during a query; a killed
 * backend sends a FATAL message and then closes its socket, and the second error could find no
 * listener: an unhandled 'error' event, which ends the process. The query or the pool still gets the
 * error; this listener only keeps a dead connection from taking the replica down with it.
 */
export class CrashSafeClient extends Client {
  constructor(config?: ConstructorParameters<typeof Client>[0]) {
    super(config);
    this.on('error', () => undefined);
  }
}
