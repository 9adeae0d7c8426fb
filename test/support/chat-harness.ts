import { join } from 'node:path';
import { MCP_SERVER_DEFINITIONS, type McpServerDefinition } from '../../src/agent/mcp/mcp-server-definition';
import { AnthropicSimulator } from './anthropic-simulator';
import { createEchoServer } from './mcp/echo-server';
import { createTestApp, newUserId, type TestApp } from './test-app';

export const ECHO_STDIO_ENTRY = join(__dirname, 'mcp/echo-server.stdio.cjs');

/** The echo test server in-process, under the name `echo`. */
export const IN_MEMORY_ECHO: McpServerDefinition = {
  name: 'echo',
  transport: { type: 'in-memory', createServer: createEchoServer },
};

export interface ChatHarness {
  t: TestApp;
  sim: AnthropicSimulator;
  /** POST /api/{user}/chat as that user (a fresh user unless given). */
  send(
    body: Record<string, unknown>,
    userId?: string,
    headers?: Record<string, string>,
  ): ReturnType<TestApp['app']['inject']>;
  close(): Promise<void>;
}

/**
 * The real app with the real Anthropic SDK pointed at the simulator, and the given MCP servers: the
 * whole path of a chat turn, with no network.
 */
export async function startChatHarness(
  options: {
    env?: Record<string, string>;
    /** Test servers (the in-memory echo by default), or `'builtin'` for the application's own (tasks). */
    servers?: McpServerDefinition[] | 'builtin';
  } = {},
): Promise<ChatHarness> {
  const sim = await AnthropicSimulator.start();
  const t = await createTestApp({
    env: {
      ANTHROPIC_API_KEY: 'test-key',
      ANTHROPIC_BASE_URL: sim.url,
      ANTHROPIC_MAX_RETRIES: '1',
      // Tests send many turns per user; the rate limit has its own tests.
      CHAT_RATE_LIMIT_PER_MINUTE: '100000',
      ...options.env,
    },
    customize: (builder) =>
      options.servers === 'builtin'
        ? builder
        : builder.overrideProvider(MCP_SERVER_DEFINITIONS).useValue(options.servers ?? [IN_MEMORY_ECHO]),
  });
  return {
    t,
    sim,
    send: (body, userId = newUserId(), headers = {}) =>
      t.app.inject({
        method: 'POST',
        url: `/api/${userId}/chat`,
        headers: { ...t.authHeaders(userId), ...headers },
        payload: body,
      }),
    close: async () => {
      await t.close();
      await sim.close();
    },
  };
}
