import { Client } from 'pg';

/**
 * A killed backend errors twice (FATAL, then the closed socket), and pg-pool's `once` listener misses the
 * second: an unhandled 'error' event ends the process. This listener only keeps the replica alive.
 */
export class CrashSafeClient extends Client {
  constructor(config?: ConstructorParameters<typeof Client>[0]) {
    super(config);
    this.on('error', () => undefined);
  }
}
