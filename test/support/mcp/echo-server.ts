import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';

const text = (value: string) => [{ type: 'text' as const, text: value }];

/**
 * A small MCP server for the registry tests, served in-process, over stdio and over Streamable HTTP. Each
 * tool exercises one behaviour of the client side: a round trip, identity, environment, errors, a hang, and
 * a tool list that changes at run time.
 */
export function createEchoServer(): McpServer {
  const server = new McpServer({ name: 'echo', version: '1.0.0' });

  server.registerTool(
    'echo',
    {
      description: 'Returns the text it was given.',
      inputSchema: { text: z.string() },
      outputSchema: { text: z.string() },
    },
    ({ text: value }) => ({ content: text(value), structuredContent: { text: value } }),
  );

  server.registerTool(
    'whoami',
    {
      description: 'Who the server was told the caller is, after an optional delay.',
      inputSchema: { delayMs: z.number().int().min(0).max(5000).optional() },
    },
    async ({ delayMs }, extra) => {
      await new Promise((resolve) => setTimeout(resolve, delayMs ?? 0));
      const identity = {
        userId: extra.authInfo?.extra?.userId ?? null,
        token: extra.authInfo?.token ?? null,
        clientId: extra.authInfo?.clientId ?? null,
        pid: process.pid,
      };
      return { content: text(JSON.stringify(identity)), structuredContent: identity };
    },
  );

  server.registerTool('environment', { description: 'Names of the environment variables it can see.' }, () => {
    const names = Object.keys(process.env).sort();
    return { content: text(names.join(', ')), structuredContent: { names } };
  });

  server.registerTool('explode', { description: 'Always throws.' }, () => {
    throw new Error('echo exploded');
  });

  server.registerTool('refuse', { description: 'Always answers with a tool error.' }, () => ({
    isError: true,
    content: text('task 999 not found'),
  }));

  server.registerTool(
    'hang',
    { description: 'Never answers; gives up only when the client cancels.' },
    (extra) => new Promise((resolve) => extra.signal.addEventListener('abort', () => resolve({ content: [] }))),
  );

  server.registerTool(
    'add_tool',
    {
      description: 'Registers one more tool, which notifies clients that the tool list changed.',
      inputSchema: { name: z.string() },
    },
    ({ name }) => {
      server.registerTool(name, { description: `Added at run time: ${name}.` }, () => ({ content: text(name) }));
      return { content: text(`added ${name}`) };
    },
  );

  return server;
}
