import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '../../config/app-config';
import type { BuiltinMcpServer } from './builtin-mcp-server';
import { mcpServerDefinitions } from './mcp-server-definitions.provider';

const builtin = (name: string): BuiltinMcpServer => ({
  name,
  createServer: () => new McpServer({ name, version: '1.0.0' }),
});

const signer = { canSign: () => true };

describe(mcpServerDefinitions.name, () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'mcp-definitions-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const configWith = (mcpServers: unknown, env: Record<string, string> = {}) => {
    const file = join(dir, 'mcp.json');
    writeFileSync(file, JSON.stringify({ mcpServers }));
    return loadConfig({ NODE_ENV: 'test', JWT_SECRET: 'x'.repeat(40), MCP_CONFIG: file, ...env });
  };

  it('offers every built-in server when MCP_CONFIG is not set', () => {
    const config = loadConfig({ NODE_ENV: 'test', JWT_SECRET: 'x'.repeat(40) });

    const definitions = mcpServerDefinitions(config, [builtin('tasks'), builtin('notes')], signer);

    expect(definitions.map((definition) => [definition.name, definition.transport.type])).toEqual([
      ['tasks', 'in-memory'],
      ['notes', 'in-memory'],
    ]);
  });

  it('offers exactly the enabled servers the file lists, a builtin entry as that built-in server, with their settings', () => {
    const config = configWith({
      todo: { builtin: 'tasks', allowed_tools: ['list_tasks'], timeout_ms: 2000, require_approval: { tools: ['x'] } },
      files: { command: 'node', args: ['server.js'] },
      off: { url: 'https://example.com/mcp', enabled: false },
    });

    const definitions = mcpServerDefinitions(config, [builtin('tasks'), builtin('notes')], signer);

    expect(definitions).toEqual([
      {
        name: 'todo',
        transport: { type: 'in-memory', createServer: expect.any(Function) },
        allowedTools: ['list_tasks'],
        timeoutMs: 2000,
        requireApproval: { tools: ['x'] },
      },
      {
        name: 'files',
        transport: { type: 'stdio', command: 'node', args: ['server.js'], env: {}, cwd: dir },
        requireApproval: 'never',
      },
    ]);
  });

  it('stops the boot with a ConfigError for a built-in server the application does not offer', () => {
    const config = configWith({ notes: { builtin: 'notes' } });

    expect(() => mcpServerDefinitions(config, [builtin('tasks')], signer)).toThrow(
      new ConfigError(['mcpServers.notes.builtin: unknown built-in server (available: tasks)']),
    );
  });
});
