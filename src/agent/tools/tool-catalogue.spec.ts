import type { McpClientRegistry } from '../mcp/mcp-client-registry';
import type { McpToolDescriptor, ToolList } from '../mcp/mcp.types';
import { DEFAULT_MAX_USER_CONNECTIONS } from '../mcp/per-user-connection-pool';
import { toAnthropicTool, ToolCatalogue } from './tool-catalogue';

const descriptor = (overrides: Partial<McpToolDescriptor>): McpToolDescriptor => ({
  server: 'tasks',
  name: 'add_task',
  description: 'Add a task',
  inputSchema: { type: 'object', properties: { title: { type: 'string' } }, required: ['title'] },
  ...overrides,
});

/** Just what the catalogue reads: each user's tool list, everyone's unless the user has tools of their own. */
class RegistryStub {
  private version = 1;
  private shared: ToolList;
  private readonly own = new Map<string, ToolList>();
  constructor(list: McpToolDescriptor[]) {
    this.shared = { version: '1', tools: list, personal: false };
  }
  toolsFor(userId: string): ToolList {
    return this.own.get(userId) ?? this.shared;
  }
  replace(list: McpToolDescriptor[]): void {
    this.shared = { version: String(++this.version), tools: list, personal: false };
  }
  giveOwn(userId: string, list: McpToolDescriptor[]): void {
    const tools = [...this.shared.tools, ...list];
    this.own.set(userId, { version: `${this.shared.version}/${++this.version}`, tools, personal: true });
  }
}

const catalogueOf = (registry: RegistryStub) => new ToolCatalogue(registry as unknown as McpClientRegistry);

describe(ToolCatalogue.name, () => {
  it('offers every tool under its Anthropic name and resolves the name back to its server and tool', () => {
    const catalogue = catalogueOf(
      new RegistryStub([
        descriptor({ server: 'tasks', name: 'search' }),
        descriptor({ server: 'docs', name: 'search' }),
        descriptor({ server: 'tasks', name: 'add_task' }),
      ]),
    );

    expect(catalogue.anthropicTools('u1').map((tool) => tool.name)).toEqual([
      'docs__search',
      'add_task',
      'tasks__search',
    ]);
    expect(catalogue.resolve('u1', 'docs__search')).toEqual({
      anthropicName: 'docs__search',
      server: 'docs',
      tool: 'search',
    });
    expect(catalogue.resolve('u1', 'add_task')).toEqual({
      anthropicName: 'add_task',
      server: 'tasks',
      tool: 'add_task',
    });
    expect(catalogue.resolve('u1', 'search')).toBeUndefined();
  });

  it('lists the offered tools for people: model-facing name, server and the server’s own description', () => {
    const catalogue = catalogueOf(
      new RegistryStub([
        descriptor({ server: 'tasks', name: 'search', description: 'Search tasks' }),
        descriptor({ server: 'docs', name: 'search', description: '', title: 'Search docs' }),
        descriptor({ server: 'tasks', name: 'pick', inputSchema: { type: 'object', oneOf: [{ required: ['a'] }] } }),
      ]),
    );

    expect(catalogue.offeredTools('u1')).toEqual([
      { name: 'docs__search', server: 'docs', description: 'Search docs' },
      { name: 'pick', server: 'tasks', description: 'Add a task' },
      { name: 'tasks__search', server: 'tasks', description: 'Search tasks' },
    ]);
  });

  it('returns the same array instance, for every user, while the tools everyone is offered are unchanged', () => {
    const catalogue = catalogueOf(new RegistryStub([descriptor({})]));

    expect(catalogue.anthropicTools('u1')).toBe(catalogue.anthropicTools('u1'));
    expect(catalogue.anthropicTools('u2')).toBe(catalogue.anthropicTools('u1'));
  });

  it('offers and resolves the tools of a user’s own connections to that user alone', () => {
    const registry = new RegistryStub([descriptor({})]);
    const catalogue = catalogueOf(registry);
    registry.giveOwn('alice', [descriptor({ server: 'diary', name: 'read_diary', description: 'Diary of alice' })]);

    expect(catalogue.anthropicTools('alice').map((tool) => tool.name)).toEqual(['read_diary', 'add_task']);
    expect(catalogue.resolve('alice', 'read_diary')).toEqual({
      anthropicName: 'read_diary',
      server: 'diary',
      tool: 'read_diary',
    });
    expect(catalogue.anthropicTools('bob').map((tool) => tool.name)).toEqual(['add_task']);
    expect(JSON.stringify(catalogue.offeredTools('bob'))).not.toContain('alice');
    expect(catalogue.resolve('bob', 'read_diary')).toBeUndefined();
  });

  it('keeps a user’s own list until its version changes, and rebuilds it then', () => {
    const registry = new RegistryStub([descriptor({})]);
    const catalogue = catalogueOf(registry);
    registry.giveOwn('alice', [descriptor({ server: 'diary', name: 'read_diary' })]);
    const before = catalogue.anthropicTools('alice');
    catalogue.anthropicTools('bob');

    expect(catalogue.anthropicTools('alice')).toBe(before);

    registry.giveOwn('alice', [descriptor({ server: 'diary', name: 'write_diary' })]);

    expect(catalogue.anthropicTools('alice').map((tool) => tool.name)).toEqual(['write_diary', 'add_task']);
  });

  it('keeps the own lists of a bounded number of users, the most recently used', () => {
    const registry = new RegistryStub([descriptor({})]);
    const catalogue = catalogueOf(registry);
    const users = Array.from({ length: DEFAULT_MAX_USER_CONNECTIONS + 1 }, (_, index) => `user-${index}`);
    for (const user of users) registry.giveOwn(user, [descriptor({ server: 'diary', name: 'read_diary' })]);
    const first = catalogue.anthropicTools(users[0]);
    const second = catalogue.anthropicTools(users[1]);
    for (const user of users.slice(2)) catalogue.anthropicTools(user);

    expect(catalogue.anthropicTools(users[1])).toBe(second);
    expect(catalogue.anthropicTools(users[0])).not.toBe(first);
    expect(catalogue.anthropicTools(users[0])).toEqual(first);
  });

  it('rebuilds the list when the registry version changes', () => {
    const registry = new RegistryStub([descriptor({})]);
    const catalogue = catalogueOf(registry);
    const before = catalogue.anthropicTools('u1');

    registry.replace([descriptor({}), descriptor({ name: 'list_tasks' })]);

    expect(catalogue.anthropicTools('u1')).not.toBe(before);
    expect(catalogue.anthropicTools('u1').map((tool) => tool.name)).toEqual(['add_task', 'list_tasks']);
    expect(catalogue.resolve('u1', 'list_tasks')).toEqual({
      anthropicName: 'list_tasks',
      server: 'tasks',
      tool: 'list_tasks',
    });
  });
});

describe(toAnthropicTool.name, () => {
  it("carries the MCP tool's description and input schema", () => {
    expect(toAnthropicTool(descriptor({}), 'add_task')).toEqual({
      name: 'add_task',
      description: 'Add a task',
      input_schema: { type: 'object', properties: { title: { type: 'string' } }, required: ['title'] },
    });
  });

  it('falls back to the title, then the name, when there is no description', () => {
    expect(toAnthropicTool(descriptor({ description: undefined, title: 'Add task' }), 'x').description).toBe(
      'Add task',
    );
    expect(toAnthropicTool(descriptor({ description: '', title: undefined }), 'x').description).toBe('add_task');
  });

  it('mentions a dropped top-level oneOf in the description', () => {
    const tool = toAnthropicTool(
      descriptor({ inputSchema: { type: 'object', oneOf: [{ required: ['id'] }, { required: ['name'] }] } }),
      'find',
    );

    expect(tool.input_schema).toEqual({ type: 'object', properties: {} });
    expect(tool.description).toBe(
      'Add a task\n\nThe input must also match exactly one of {id} | {name} (checked by the tool, not shown in its schema).',
    );
  });
});
