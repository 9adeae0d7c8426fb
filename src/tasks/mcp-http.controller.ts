import { Controller, Delete, Get, Post, Req, Res, UseGuards } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { AuthUser } from '../auth/auth-user';
import { CurrentUser } from '../auth/current-user.decorator';
import { McpRateLimitGuard } from '../rate-limit/mcp-rate-limit.guard';
import { AppError } from '../common/errors/app-error';
import { REQUEST_ID_HEADER } from '../common/http/request-id';
import { McpSessionStore } from './mcp-session-store';
import { TasksMcpServer } from './tasks-mcp.server';

const SESSION_HEADER = 'mcp-session-id';
/** `authInfo.clientId` of calls that come in over `/mcp`. */
export const MCP_HTTP_CLIENT_ID = 'mcp-http';

/**
 * The tasks server for outside MCP clients, behind the global JWT guard. 429 is problem+json, not JSON-RPC:
 * MCP clients act on the HTTP status (StreamableHTTPError keeps the body only as text).
 */
@ApiExcludeController()
@Controller('mcp')
@UseGuards(McpRateLimitGuard)
export class McpHttpController {
  constructor(
    private readonly tasks: TasksMcpServer,
    private readonly sessions: McpSessionStore<StreamableHTTPServerTransport>,
  ) {}

  @Post()
  async post(@CurrentUser() user: AuthUser, @Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const sessionId = sessionIdOf(request);
    if (sessionId !== undefined) return this.forward(sessionId, user, request, reply);
    if (!isInitializeRequest(request.body)) {
      return sendJsonRpcError(reply, 400, 'Bad Request: no Mcp-Session-Id; start a session with an initialize request');
    }
    return handOver(await this.openSession(user.userId), user, request, reply);
  }

  @Delete()
  async delete(
    @CurrentUser() user: AuthUser,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const sessionId = sessionIdOf(request);
    if (sessionId === undefined) return sendJsonRpcError(reply, 400, 'Bad Request: Mcp-Session-Id header is required');
    return this.forward(sessionId, user, request, reply);
  }

  /** No standalone SSE stream (the transport allows 405): the server sends nothing unprompted. */
  @Get()
  stream(@Res({ passthrough: true }) reply: FastifyReply): never {
    void reply.header('allow', 'POST, DELETE');
    throw new AppError(
      'method_not_allowed',
      'GET /mcp opens no event stream here: use POST (and DELETE to end a session).',
    );
  }

  /** The session joins the store only once initialize succeeds, so a refused one leaves nothing behind. */
  private async openSession(userId: string): Promise<StreamableHTTPServerTransport> {
    const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
      sessionIdGenerator: randomUUID,
      enableJsonResponse: true,
      // No Origin allow-list against DNS rebinding: it guards cookie or localhost trust, and every request
      // here needs a bearer token, which a rebinding page cannot obtain.
      onsessioninitialized: (sessionId) => this.sessions.add(sessionId, userId, transport),
      onsessionclosed: (sessionId) => this.sessions.remove(sessionId),
    });
    await this.tasks.createServer().connect(transport);
    return transport;
  }

  private async forward(
    sessionId: string,
    user: AuthUser,
    request: FastifyRequest,
    reply: FastifyReply,
  ): Promise<void> {
    const transport = this.sessions.find(sessionId, user.userId);
    // Another user's session gets the same answer as an unknown or expired one: it does not exist for them.
    if (transport === undefined) return sendJsonRpcError(reply, 404, 'Session not found', -32001);
    return handOver(transport, user, request, reply);
  }
}

/** The transport writes the response itself, so Fastify must not send one. */
async function handOver(
  transport: StreamableHTTPServerTransport,
  user: AuthUser,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<void> {
  reply.hijack();
  // Headers set on the Fastify reply (the guards' RateLimit) are not written once it is hijacked.
  for (const [name, value] of Object.entries(reply.getHeaders())) {
    if (value !== undefined) reply.raw.setHeader(name, value);
  }
  reply.raw.setHeader(REQUEST_ID_HEADER, request.id);
  const raw: IncomingMessage & { auth?: AuthInfo } = request.raw;
  raw.auth = { token: user.token, clientId: MCP_HTTP_CLIENT_ID, scopes: [], extra: { userId: user.userId } };
  await transport.handleRequest(raw, reply.raw, request.body);
}

function sessionIdOf(request: FastifyRequest): string | undefined {
  const value = request.headers[SESSION_HEADER];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function sendJsonRpcError(reply: FastifyReply, status: number, message: string, code = -32000): void {
  void reply
    .status(status)
    .header('content-type', 'application/json')
    .send({ jsonrpc: '2.0', error: { code, message }, id: null });
}
