import type { Logger } from '@nestjs/common';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import type { FetchLike, Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { CallerIdentityTransport } from './caller-identity-transport';
import { renderHeaders, type HeaderIdentity } from './header-template';
import type { McpServerDefinition } from './mcp-server-definition';
import { stdioEnvironment } from './stdio-environment';

export interface McpTransportHandle {
  transport: Transport;
  /** Runs one call with the caller's identity attached, where the transport can carry it per request. */
  runAs<T>(authInfo: AuthInfo, call: () => Promise<T>): Promise<T>;
}

export interface McpTransportOptions {
  logger: Logger;
  /** Fills in templated header values; required when the definition's headers use placeholders. */
  identity?: HeaderIdentity;
  /** Applied to whatever the server writes before it reaches the log. */
  redact: (text: string) => string;
}

const withoutIdentity = <T>(_authInfo: AuthInfo, call: () => Promise<T>): Promise<T> => call();

export async function createMcpTransport(
  definition: McpServerDefinition,
  { logger, identity, redact }: McpTransportOptions,
): Promise<McpTransportHandle> {
  const spec = definition.transport;
  switch (spec.type) {
    case 'in-memory': {
      const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
      await spec.createServer().connect(serverSide);
      const transport = new CallerIdentityTransport(clientSide);
      return { transport, runAs: (authInfo, call) => transport.runAs(authInfo, call) };
    }
    case 'stdio': {
      const transport = new StdioClientTransport({
        command: spec.command,
        args: spec.args,
        env: stdioEnvironment(spec.env),
        cwd: spec.cwd,
        stderr: 'pipe',
      });
      // Servers log to stderr; keep it out of the service's own output unless debugging.
      transport.stderr?.on('data', (chunk: Buffer) =>
        logger.debug(`MCP server ${definition.name} stderr: ${redact(chunk.toString('utf8').trimEnd())}`),
      );
      return { transport, runAs: withoutIdentity };
    }
    case 'http': {
      const headers = spec.headers ?? {};
      const transport = new StreamableHTTPClientTransport(new URL(spec.url), {
        fetch: withHeaders(() => (identity === undefined ? headers : renderHeaders(headers, identity))),
      });
      return { transport, runAs: withoutIdentity };
    }
  }
}

/** Renders the headers afresh on every request, so a long-lived connection never sends an expired token. */
function withHeaders(render: () => Record<string, string>): FetchLike {
  return async (url, init) => {
    const headers = new Headers(init?.headers);
    for (const [name, value] of Object.entries(render())) headers.set(name, value);
    return fetch(url, { ...init, headers });
  };
}
