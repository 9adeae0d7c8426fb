import { AsyncLocalStorage } from 'node:async_hooks';
import type { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import type { Transport, TransportSendOptions } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage, MessageExtraInfo } from '@modelcontextprotocol/sdk/types.js';

/**
 * The client side of an in-process server link that hands the caller's identity to the server with each
 * request, where the tool handler reads it as `extra.authInfo`.
 *
 * `InMemoryTransport.send` accepts `{ authInfo }`, but `Client.request` forwards only `relatedRequestId` and
 * the resumption options to `transport.send`, so the identity cannot ride on the call options. It rides on an
 * AsyncLocalStorage instead: `runAs` scopes it to one call, and concurrent calls on the one shared
 * connection each carry their own.
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
