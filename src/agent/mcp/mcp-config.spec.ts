import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../config/app-config';
import { loadMcpConfig, parseMcpConfig, type McpConfigOptions } from './mcp-config';

const OPTIONS: McpConfigOptions = { builtinNames: ['tasks'], canSignTokens: true };
const BASE_DIR = '/etc/chat-service';

function problemsOf(json: unknown, options: McpConfigOptions = OPTIONS): string[] {
  try {
    parseMcpConfig(json, BASE_DIR, options);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('the config was accepted');
}

describe(parseMcpConfig.name, () => {
  it('reads the three kinds of server with their per-server settings', () => {
    const servers = parseMcpConfig(
      {
        mcpServers: {
          tasks: { builtin: 'tasks', allowed_tools: ['list_tasks'] },
          files: { command: 'npx', args: ['-y', 'files-mcp'], env: { ROOT: '/srv' }, timeout_ms: 5000 },
          github: {
            type: 'http',
            url: 'https://mcp.example.com/mcp',
            headers: { Authorization: 'Bearer {{user_token}}', 'X-User': '{{ user_id }}' },
            enabled: false,
          },
        },
      },
      BASE_DIR,
      OPTIONS,
    );

    expect(servers).toEqual([
      {
        name: 'tasks',
        enabled: true,
        allowedTools: ['list_tasks'],
        requireApproval: 'never',
        kind: 'builtin',
        builtin: 'tasks',
      },
      {
        name: 'files',
        enabled: true,
        timeoutMs: 5000,
        requireApproval: 'never',
        kind: 'stdio',
        command: 'npx',
        args: ['-y', 'files-mcp'],
        env: { ROOT: '/srv' },
        cwd: BASE_DIR,
      },
      {
        name: 'github',
        enabled: false,
        requireApproval: 'never',
        kind: 'http',
        url: 'https://mcp.example.com/mcp',
        headers: { Authorization: 'Bearer {{user_token}}', 'X-User': '{{ user_id }}' },
      },
    ]);
  });

  it("resolves a relative cwd and a relative command path against the config file's folder", () => {
    const [server] = parseMcpConfig(
      { mcpServers: { local: { command: './bin/server', cwd: 'servers/local' } } },
      BASE_DIR,
      OPTIONS,
    );

    expect(server).toMatchObject({ command: '/etc/chat-service/bin/server', cwd: '/etc/chat-service/servers/local' });
  });

  it('lists every problem of the file at once, each with its JSON path', () => {
    const problems = problemsOf({
      mcpServers: {
        github: { url: 'ftp://example.com', headers: { 'X-Key': 'a\r\nInjected: 1' } },
        'bad name': { command: 'x' },
        files: { command: '', args: [1], env: { '1BAD': 'v' }, timeout_ms: 10, enabled: 'yes', allowedTools: [] },
        nothing: {},
        both: { command: 'x', url: 'https://example.com' },
        todo: { builtin: 'calendar' },
      },
    });

    expect(problems).toEqual([
      'mcpServers.github.url: must be an http(s) URL',
      'mcpServers.github.headers.X-Key: must not contain line breaks or other control characters',
      'mcpServers["bad name"]: a server name must match ^[a-zA-Z0-9_-]{1,64}$',
      'mcpServers.files.command: must not be empty',
      'mcpServers.files.args[0]: Invalid input: expected string, received number',
      'mcpServers.files.env.1BAD: not a valid variable name',
      'mcpServers.files.timeout_ms: Too small: expected number to be >=100',
      'mcpServers.files.enabled: Invalid input: expected boolean, received string',
      'mcpServers.files.allowedTools: unknown key',
      'mcpServers.nothing: needs one of command (stdio), url (Streamable HTTP) or builtin',
      'mcpServers.both: set only one of command, url',
      'mcpServers.todo.builtin: unknown built-in server (available: tasks)',
    ]);
  });

  it('reads require_approval of every kind of server: never (the default), always, or a list of tools', () => {
    const servers = parseMcpConfig(
      {
        mcpServers: {
          tasks: { builtin: 'tasks', require_approval: { tools: ['delete_task', 'not_listed_yet'] } },
          mail: { url: 'https://mail.example.com/mcp', require_approval: 'always' },
          files: { command: 'files-mcp', require_approval: 'never' },
          search: { command: 'search-mcp' },
        },
      },
      BASE_DIR,
      OPTIONS,
    );

    expect(servers.map((server) => [server.name, server.requireApproval])).toEqual([
      ['tasks', { tools: ['delete_task', 'not_listed_yet'] }],
      ['mail', 'always'],
      ['files', 'never'],
      ['search', 'never'],
    ]);
  });

  it('names every bad require_approval by its path', () => {
    const server = (require_approval: unknown) => ({ builtin: 'tasks', require_approval });

    expect(
      problemsOf({
        mcpServers: {
          word: server('sometimes'),
          number: server(1),
          list: server(['delete_task']),
          empty: server({ tools: [] }),
          numbers: server({ tools: ['delete_task', 2] }),
          blank: server({ tools: [''] }),
          text: server({ tools: 'delete_task' }),
          none: server({}),
          extra: server({ tools: ['delete_task'], servers: ['x'] }),
        },
      }),
    ).toEqual([
      'mcpServers.word.require_approval: must be "never", "always" or { "tools": ["<tool>", …] }',
      'mcpServers.number.require_approval: must be "never", "always" or { "tools": ["<tool>", …] }',
      'mcpServers.list.require_approval: must be "never", "always" or { "tools": ["<tool>", …] }',
      'mcpServers.empty.require_approval.tools: must name at least one tool',
      'mcpServers.numbers.require_approval.tools[1]: Invalid input: expected string, received number',
      'mcpServers.blank.require_approval.tools[0]: must not be empty',
      'mcpServers.text.require_approval.tools: Invalid input: expected array, received string',
      'mcpServers.none.require_approval.tools: Invalid input: expected array, received undefined',
      'mcpServers.extra.require_approval.servers: unknown key',
    ]);
  });

  it('refuses unknown placeholders and headers the MCP transport sets itself', () => {
    expect(
      problemsOf({
        mcpServers: {
          api: {
            url: 'https://example.com/mcp',
            headers: { 'X-Tenant': '{{tenant}}', 'Mcp-Session-Id': 'fixed', 'Bad Name': 'v' },
          },
        },
      }),
    ).toEqual([
      'mcpServers.api.headers.X-Tenant: unknown placeholder {{tenant}}: use {{user_id}} or {{user_token}}',
      'mcpServers.api.headers.Mcp-Session-Id: set by the MCP transport; it cannot be configured',
      'mcpServers.api.headers["Bad Name"]: not a valid header name',
    ]);
  });

  it('refuses {{user_token}} when the service holds no key to sign it (JWT_JWKS_URL only)', () => {
    const json = {
      mcpServers: { api: { url: 'https://example.com/mcp', headers: { Authorization: '{{user_token}}' } } },
    };

    expect(problemsOf(json, { ...OPTIONS, canSignTokens: false })).toEqual([
      'mcpServers.api.headers.Authorization: {{user_token}} needs JWT_SECRET: with JWT_JWKS_URL alone the service cannot sign tokens',
    ]);
  });

  it('reports a document that is not an mcpServers object', () => {
    expect(problemsOf([])).toEqual(['MCP_CONFIG: Invalid input: expected object, received array']);
    expect(problemsOf({ servers: {} })).toEqual([
      'mcpServers: Invalid input: expected record, received undefined',
      'servers: unknown key',
    ]);
    expect(problemsOf({ mcpServers: { a: 'npx' } })).toEqual([
      'mcpServers.a: must be an object with command, url or builtin',
    ]);
  });
});

describe(loadMcpConfig.name, () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'mcp-config-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('stops the boot with a ConfigError when the file is missing', () => {
    const file = join(dir, 'missing.json');

    expect(() => loadMcpConfig(file, OPTIONS)).toThrow(new ConfigError([`MCP_CONFIG: cannot read ${file} (ENOENT)`]));
  });

  it('stops the boot with a ConfigError when the file is not JSON', () => {
    const file = join(dir, 'mcp.json');
    writeFileSync(file, '{ "mcpServers": ');

    expect(() => loadMcpConfig(file, OPTIONS)).toThrow(/MCP_CONFIG: .*mcp\.json is not valid JSON/);
  });

  it("resolves relative paths against the file's own folder", () => {
    const file = join(dir, 'mcp.json');
    writeFileSync(file, JSON.stringify({ mcpServers: { local: { command: 'node', args: ['server.js'] } } }));

    expect(loadMcpConfig(file, OPTIONS)).toEqual([expect.objectContaining({ command: 'node', cwd: dir })]);
  });
});
