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

  it('offers only the allowed tools of a server', async () => {
    const registry = new McpClientRegistry(
      [{ ...inMemory('notes', notesServer), allowedTools: ['list_notes'] }],
      config,
    );
    await registry.onModuleInit();

    expect(registry.tools().map((tool) => tool.name)).toEqual(['list_notes']);
    expect(await registry.callTool('notes', 'add_note', {}, { userId: 'u1' })).toMatchObject({
      isError: true,
      text: 'Tool add_note is not available on server notes',
    });
    await registry.onApplicationShutdown();
  });

  it('keeps the same tools() array and version until the tool list changes', async () => {
    const servers: McpServer[] = [];
    const createServer = (): McpServer => {
      const server = notesServer();
      servers.push(server);
      return server;
    };
    const registry = new McpClientRegistry([inMemory('notes', createServer)], config);
    await registry.onModuleInit();
    const tools = registry.tools();
    const version = registry.version;

    expect(registry.tools()).toBe(tools);
    expect(registry.version).toBe(version);

    servers[0].registerTool('delete_note', { description: 'Delete a note' }, () => ({ content: [] }));
    await waitFor(() => registry.version !== version);

    expect(registry.version).toBe(version + 1);
    expect(registry.tools().map((tool) => tool.name)).toEqual(['add_note', 'delete_note', 'list_notes']);
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
