import { AsyncLocalStorage } from 'node:async_hooks';
import type { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import type { Transport, TransportSendOptions } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage, MessageExtraInfo } from '@modelcontextprotocol/sdk/types.js';

/**
 * Hands the caller's identity to an in-process server as `extra.authInfo`. `Client.request` does not pass
 * call options to `transport.send`, so it rides on an AsyncLocalStorage scoped to one call by `runAs`.
 */
export class CallerIdentityTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage, extra?: MessageExtraInfo) => void;

  private readonly caller = new AsyncLocalStorage<AuthInfo>();

  constructor(private readonly inner: InMemoryTransport) {
    inner.onclose = () => this.onclose?.();
    inner.onerror = (error) => this.onerror?.(error);
    inner.onmessage = (message, extra) => this.onmessage?.(message, extra);
  }

  runAs<T>(authInfo: AuthInfo, call: () => Promise<T>): Promise<T> {
    return this.caller.run(authInfo, call);
  }

  start(): Promise<void> {
    return this.inner.start();
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  send(message: JSONRPCMessage, options?: TransportSendOptions): Promise<void> {
    return this.inner.send(message, { relatedRequestId: options?.relatedRequestId, authInfo: this.caller.getStore() });
  }
}
