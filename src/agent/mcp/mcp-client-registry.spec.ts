import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { loadConfig } from '../../config/app-config';
import { McpClientRegistry } from './mcp-client-registry';
import type { McpServerDefinition } from './mcp-server-definition';

const config = loadConfig({ NODE_ENV: 'test', JWT_SECRET: 'x'.repeat(40) });

function inMemory(name: string, createServer: () => McpServer): McpServerDefinition {
  return { name, transport: { type: 'in-memory', createServer } };
}

function notesServer(): McpServer {
  const server = new McpServer({ name: 'notes', version: '1.0.0' });
  server.registerTool('add_note', { description: 'Add a note' }, () => ({ content: [] }));
  server.registerTool('list_notes', { description: 'List notes' }, () => ({ content: [] }));
  return server;
}

describe(McpClientRegistry.name, () => {
  it('refuses two servers with the same name, whose tools could not be told apart', () => {
    expect(
      () => new McpClientRegistry([inMemory('notes', notesServer), inMemory('notes', notesServer)], config),
    ).toThrow('Duplicate MCP server name: notes');
  });

  it('refuses a server whose headers use {{user_token}} when nothing can sign it', () => {
    const definition: McpServerDefinition = {
      name: 'api',
      transport: { type: 'http', url: 'http://127.0.0.1:9/mcp', headers: { Authorization: 'Bearer {{user_token}}' } },
    };

    expect(() => new McpClientRegistry([definition], config)).toThrow(
      'MCP server api uses {{user_token}} but no token issuer is configured',
    );
  });

  it('does not hold up boot past MCP_BOOT_WAIT_MS for a server that never answers: only its tools are missing', async () => {
    const silent = (): McpServer => {
      const server = new McpServer({ name: 'silent', version: '1.0.0' });
      // Never listens: the client's initialize goes unanswered, as with a hung process.
      server.connect = async () => undefined;
      return server;
    };
    const registry = new McpClientRegistry(
      [inMemory('notes', notesServer), inMemory('stuck', silent)],
      loadConfig({ NODE_ENV: 'test', JWT_SECRET: 'x'.repeat(40), MCP_BOOT_WAIT_MS: '100' }),
    );
    const started = Date.now();

    await registry.onModuleInit();

    expect(Date.now() - started).toBeLessThan(1000);
    expect(registry.status()).toEqual([
      { name: 'notes', state: 'connected', tools: 2 },
      { name: 'stuck', state: 'connecting', tools: 0 },
    ]);
    expect(await registry.callTool('stuck', 'anything', {}, { userId: 'u1' })).toMatchObject({
      isError: true,
      text: 'Tool anything on server stuck is unavailable: the server is not connected',
    });
    expect(await registry.callTool('notes', 'add_note', {}, { userId: 'u1' })).toMatchObject({ isError: false });
    await registry.onApplicationShutdown();
  });

  it('keeps reporting a server that cannot start as failed, with its error, while it retries', async () => {
    const registry = new McpClientRegistry(
      [{ name: 'missing', transport: { type: 'stdio', command: '/nonexistent/mcp-server' } }],
      config,
    );
    await registry.onModuleInit();
    const seen = new Set<string>();

    // Long enough for the first retries (0.25–1 s apart).
    const until = Date.now() + 1200;
    while (Date.now() < until) {
      seen.add(registry.status()[0].state);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }

    expect([...seen]).toEqual(['failed']);
    expect(registry.status()[0].error).toMatch(/ENOENT/);
    await registry.onApplicationShutdown();
  });

  it('offers only the allowed tools of a server', async () => {
    const registry = new McpClientRegistry(
      [{ ...inMemory('notes', notesServer), allowedTools: ['list_notes'] }],
      config,
    );
    await registry.onModuleInit();

    expect(registry.toolsFor('u1').tools.map((tool) => tool.name)).toEqual(['list_notes']);
    expect(await registry.callTool('notes', 'add_note', {}, { userId: 'u1' })).toMatchObject({
      isError: true,
      text: 'Tool add_note is not available on server notes',
    });
    await registry.onApplicationShutdown();
  });

  it('keeps the same tool list and version until the tool list changes', async () => {
    const servers: McpServer[] = [];
    const createServer = (): McpServer => {
      const server = notesServer();
      servers.push(server);
      return server;
    };
    const registry = new McpClientRegistry([inMemory('notes', createServer)], config);
    await registry.onModuleInit();
    const list = registry.toolsFor('u1');

    expect(registry.toolsFor('u1')).toBe(list);
    expect(registry.toolsFor('u2')).toBe(list);
    expect(list.personal).toBe(false);

    servers[0].registerTool('delete_note', { description: 'Delete a note' }, () => ({ content: [] }));
    await waitFor(() => registry.toolsFor('u1').version !== list.version);

    expect(registry.toolsFor('u1').tools.map((tool) => tool.name)).toEqual(['add_note', 'delete_note', 'list_notes']);
    await registry.onApplicationShutdown();
  });
});

async function waitFor(condition: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
