import type { McpClientRegistry, McpToolDescriptor } from '../mcp/mcp-client-registry';
import { toAnthropicTool, ToolCatalogue } from './tool-catalogue';

const descriptor = (overrides: Partial<McpToolDescriptor>): McpToolDescriptor => ({
  server: 'tasks',
  name: 'add_task',
  description: 'Add a task',
  inputSchema: { type: 'object', properties: { title: { type: 'string' } }, required: ['title'] },
  ...overrides,
});

/** Just what the catalogue reads: a version and the tools behind it. */
class RegistryStub {
  version = 1;
  constructor(private list: McpToolDescriptor[]) {}
  tools(): McpToolDescriptor[] {
    return this.list;
  }
  replace(list: McpToolDescriptor[]): void {
    this.list = list;
    this.version++;
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

    expect(catalogue.anthropicTools().map((tool) => tool.name)).toEqual(['docs__search', 'add_task', 'tasks__search']);
    expect(catalogue.resolve('docs__search')).toEqual({
      anthropicName: 'docs__search',
      server: 'docs',
      tool: 'search',
    });
    expect(catalogue.resolve('add_task')).toEqual({ anthropicName: 'add_task', server: 'tasks', tool: 'add_task' });
    expect(catalogue.resolve('search')).toBeUndefined();
  });

  it('lists the offered tools for people: model-facing name, server and the server’s own description', () => {
    const catalogue = catalogueOf(
      new RegistryStub([
        descriptor({ server: 'tasks', name: 'search', description: 'Search tasks' }),
        descriptor({ server: 'docs', name: 'search', description: '', title: 'Search docs' }),
        descriptor({ server: 'tasks', name: 'pick', inputSchema: { type: 'object', oneOf: [{ required: ['a'] }] } }),
      ]),
    );

    expect(catalogue.offeredTools()).toEqual([
      { name: 'docs__search', server: 'docs', description: 'Search docs' },
      { name: 'pick', server: 'tasks', description: 'Add a task' },
      { name: 'tasks__search', server: 'tasks', description: 'Search tasks' },
    ]);
  });

  it('returns the same array instance while the registry version is unchanged', () => {
    const catalogue = catalogueOf(new RegistryStub([descriptor({})]));

    expect(catalogue.anthropicTools()).toBe(catalogue.anthropicTools());
  });

  it('rebuilds the list when the registry version changes', () => {
    const registry = new RegistryStub([descriptor({})]);
    const catalogue = catalogueOf(registry);
    const before = catalogue.anthropicTools();

    registry.replace([descriptor({}), descriptor({ name: 'list_tasks' })]);

    expect(catalogue.anthropicTools()).not.toBe(before);
    expect(catalogue.anthropicTools().map((tool) => tool.name)).toEqual(['add_task', 'list_tasks']);
    expect(catalogue.resolve('list_tasks')).toEqual({
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
