import { randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';

/** One request as the host received it. */
export interface RecordedMcpRequest {
  method: string;
  /** Its `mcp-session-id`, or for an initialize request the session it opened. */
  sessionId?: string;
  headers: IncomingHttpHeaders;
}

export interface StreamableHttpHostOptions {
  /** Answers 401 to a request it returns false for, as a server that does not accept the caller would. */
  accept?: (headers: IncomingHttpHeaders) => boolean;
}

export interface StreamableHttpHost {
  url: string;
  port: number;
  /** How many sessions clients have initialized so far. */
  readonly sessionsStarted: number;
  /** Every request received so far, oldest first, refused ones included. */
  readonly requests: readonly RecordedMcpRequest[];
  /** Forgets every session, as an expiry or a server restart would: their next request gets a 404. */
  forgetSessions(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Serves MCP servers over stateful Streamable HTTP on 127.0.0.1 (a random port unless given one), one
 * `McpServer` per session, made from the headers of the request that initialized it.
 */
export async function startStreamableHttpHost(
  createMcpServer: (headers: IncomingHttpHeaders) => McpServer,
  port = 0,
  options: StreamableHttpHostOptions = {},
): Promise<StreamableHttpHost> {
  const sessions = new Map<string, StreamableHTTPServerTransport>();
  const requests: RecordedMcpRequest[] = [];
  let sessionsStarted = 0;

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const sessionId = req.headers['mcp-session-id'];
    const record: RecordedMcpRequest = {
      method: req.method ?? '',
      ...(typeof sessionId === 'string' && { sessionId }),
      headers: req.headers,
    };
    requests.push(record);
    const body = req.method === 'POST' ? await readJson(req) : undefined;
    if (options.accept?.(req.headers) === false) return sendError(res, 401, -32000, 'Unauthorized');
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
        record.sessionId = id;
        sessions.set(id, transport);
      },
    });
    await createMcpServer(req.headers).connect(transport);
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
    requests,
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
