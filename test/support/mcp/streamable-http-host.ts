import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';

export interface StreamableHttpHost {
  url: string;
  port: number;
  /** How many sessions clients have initialized so far. */
  readonly sessionsStarted: number;
  /** Forgets every session, as an expiry or a server restart would: their next request gets a 404. */
  forgetSessions(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Serves MCP servers over stateful Streamable HTTP on 127.0.0.1 (a random port unless given one), one
 * `McpServer` per session.
 */
export async function startStreamableHttpHost(createMcpServer: () => McpServer, port = 0): Promise<StreamableHttpHost> {
  const sessions = new Map<string, StreamableHTTPServerTransport>();
  let sessionsStarted = 0;

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const sessionId = req.headers['mcp-session-id'];
    const body = req.method === 'POST' ? await readJson(req) : undefined;
    if (typeof sessionId === 'string') {
      const transport = sessions.get(sessionId);
      if (transport === undefined) return sendError(res, 404, -32001, 'Session not found');
      return transport.handleRequest(req, res, body);
    }
    if (req.method !== 'POST' || !isInitializeRequest(body)) return sendError(res, 400, -32000, 'No session');
    const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (id) => {
        sessionsStarted++;
        sessions.set(id, transport);
      },
    });
    await createMcpServer().connect(transport);
    return transport.handleRequest(req, res, body);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const { port: actualPort } = server.address() as AddressInfo;

  const forgetSessions = async (): Promise<void> => {
    const transports = [...sessions.values()];
    sessions.clear();
    await Promise.all(transports.map((transport) => transport.close()));
  };

  return {
    url: `http://127.0.0.1:${actualPort}/mcp`,
    port: actualPort,
    get sessionsStarted() {
      return sessionsStarted;
    },
    forgetSessions,
    close: async () => {
      await forgetSessions();
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
    },
  };
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
}

function sendError(res: ServerResponse, status: number, code: number, message: string): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ jsonrpc: '2.0', error: { code, message }, id: null }));
}
