import { Logger } from '@nestjs/common';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { CallerIdentityTransport } from '../agent/mcp/caller-identity-transport';
import { loadConfig } from '../config/app-config';
import { TaskEntity } from './task.entity';
import type { TaskRepository } from './task.repository';
import { LIST_TASKS_LIMIT, TASK_ID_MAX } from './task-tool-schemas';
import { TasksMcpServer } from './tasks-mcp.server';

const config = loadConfig({ NODE_ENV: 'test', JWT_SECRET: 'unit-test-secret' });

type FakeRepository = { [K in keyof TaskRepository]: jest.Mock };

function makeTask(overrides: Partial<TaskEntity> = {}): TaskEntity {
  return Object.assign(new TaskEntity(), {
    id: 7,
    userId: 'alice',
    title: 'Buy milk',
    description: null,
    completed: false,
    createdAt: new Date('2030-01-02T03:04:05.000Z'),
    updatedAt: new Date('2030-01-02T03:04:05.000Z'),
    ...overrides,
  });
}

const textOf = (result: CallToolResult) =>
  result.content.map((block) => (block.type === 'text' ? block.text : '')).join('');

describe(TasksMcpServer.name, () => {
  let repository: FakeRepository;
  let client: Client;
  let link: CallerIdentityTransport;

  beforeEach(async () => {
    repository = {
      createWithinQuota: jest.fn(),
      listForUser: jest.fn(),
      completeForUser: jest.fn(),
      updateForUser: jest.fn(),
      deleteForUser: jest.fn(),
    };
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    await new TasksMcpServer(repository as unknown as TaskRepository, config).createServer().connect(serverSide);
    link = new CallerIdentityTransport(clientSide);
    client = new Client({ name: 'spec', version: '1.0.0' });
    await client.connect(link);
  });

  afterEach(() => client.close());

  /** A call as `userId`, identified the way the agent's in-memory link does it. */
  const callAs = (userId: string, name: string, args: Record<string, unknown>) =>
    link.runAs({ token: 't', clientId: 'spec', scopes: [], extra: { userId } }, () =>
      client.callTool({ name, arguments: args }),
    ) as Promise<CallToolResult>;

  it('offers exactly the five tools of SPEC §7, none of which takes a user id or undeclared arguments', async () => {
    const { tools } = await client.listTools();

    expect(tools.map((tool) => tool.name).sort()).toEqual([
      'add_task',
      'complete_task',
      'delete_task',
      'list_tasks',
      'update_task',
    ]);
    for (const tool of tools) {
      expect(tool.inputSchema).toMatchObject({ type: 'object', additionalProperties: false });
      expect(Object.keys(tool.inputSchema.properties ?? {})).not.toContain('user_id');
      expect(tool.outputSchema).toMatchObject({ type: 'object', properties: expect.any(Object) });
      expect(tool.description?.length).toBeGreaterThan(40);
    }
  });

  it('refuses a call that carries no caller identity instead of falling back to a default user', async () => {
    const result = (await client.callTool({ name: 'add_task', arguments: { title: 'x' } })) as CallToolResult;

    expect(result.isError).toBe(true);
    expect(textOf(result)).toBe('not authenticated');
    expect(repository.createWithinQuota).not.toHaveBeenCalled();
  });

  it('acts for the user our side attached, as JSON text and structuredContent alike', async () => {
    repository.createWithinQuota.mockResolvedValue(makeTask({ id: 3, title: 'Buy milk' }));

    const result = await callAs('alice', 'add_task', { title: '  Buy milk  ', description: '' });

    expect(repository.createWithinQuota).toHaveBeenCalledWith(
      'alice',
      { title: 'Buy milk', description: null },
      10_000,
    );
    expect(result.isError).toBeFalsy();
    expect(result.structuredContent).toEqual({ task_id: 3, status: 'created', title: 'Buy milk' });
    expect(JSON.parse(textOf(result))).toEqual(result.structuredContent);
  });

  it.each<[string, string, Record<string, unknown>]>([
    ['an undeclared user_id', 'add_task', { title: 'x', user_id: 'mallory' }],
    ['an undeclared user_id', 'list_tasks', { user_id: 'mallory' }],
    ['an undeclared user_id', 'delete_task', { task_id: 1, user_id: 'mallory' }],
    ['a blank title', 'add_task', { title: '   ' }],
    ['a title over 200 characters', 'add_task', { title: 'x'.repeat(201) }],
    ['a description over 1000 characters', 'add_task', { title: 'x', description: 'd'.repeat(1001) }],
    ['a status outside all|pending|completed', 'list_tasks', { status: 'done' }],
    ['a task id of 0', 'complete_task', { task_id: 0 }],
    ['a negative task id', 'delete_task', { task_id: -1 }],
    ['a fractional task id', 'complete_task', { task_id: 1.5 }],
    ['a task id given as a string', 'complete_task', { task_id: '3' }],
    ['a task id beyond PostgreSQL integer', 'complete_task', { task_id: TASK_ID_MAX + 1 }],
    ['an update that changes nothing', 'update_task', { task_id: 1 }],
  ])('rejects %s (%s) as a tool error without touching the database', async (_case, tool, args) => {
    const result = await callAs('alice', tool, args);

    expect(result.isError).toBe(true);
    expect(textOf(result)).toMatch(/Input validation error/);
    for (const method of Object.values(repository)) expect(method).not.toHaveBeenCalled();
  });

  it.each(['complete_task', 'delete_task'])(
    'answers "task N not found" from %s for an id the user has no task with',
    async (tool) => {
      repository.completeForUser.mockResolvedValue(null);
      repository.deleteForUser.mockResolvedValue(null);

      const result = await callAs('alice', tool, { task_id: 999 });

      expect(result).toEqual({ isError: true, content: [{ type: 'text', text: 'task 999 not found' }] });
    },
  );

  it('passes only the fields update_task was given, an empty description clearing it', async () => {
    repository.updateForUser.mockResolvedValue(makeTask({ id: 4, title: 'Renamed' }));

    const result = await callAs('alice', 'update_task', { task_id: 4, description: '' });

    expect(repository.updateForUser).toHaveBeenCalledWith('alice', 4, { description: null });
    expect(result.structuredContent).toEqual({ task_id: 4, status: 'updated', title: 'Renamed' });
  });

  it('lists all tasks by default, capped, saying when there are more', async () => {
    const rows = Array.from({ length: LIST_TASKS_LIMIT + 1 }, (_, index) => makeTask({ id: index + 1 }));
    repository.listForUser.mockResolvedValue(rows);

    const result = await callAs('alice', 'list_tasks', {});

    expect(repository.listForUser).toHaveBeenCalledWith('alice', 'all', LIST_TASKS_LIMIT + 1, undefined);
    const list = result.structuredContent as { tasks: unknown[]; has_more: boolean; next_cursor: string | null };
    expect(list.tasks).toHaveLength(LIST_TASKS_LIMIT);
    expect(list.has_more).toBe(true);
    expect(list).toMatchObject({ next_cursor: expect.any(String) });
    expect(list.tasks[0]).toEqual({
      task_id: 1,
      title: 'Buy milk',
      description: null,
      completed: false,
      created_at: '2030-01-02T03:04:05.000Z',
    });
  });

  it('hides a database failure behind a generic tool error, so no driver text reaches the model', async () => {
    repository.completeForUser.mockRejectedValue(new Error('relation "tasks" does not exist'));
    const logged = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);

    const result = await callAs('alice', 'complete_task', { task_id: 1 });

    expect(result.isError).toBe(true);
    expect(textOf(result)).toBe('The task list is unavailable right now; try again later.');
    expect(logged).toHaveBeenCalledWith(expect.stringContaining('relation "tasks" does not exist'));
    logged.mockRestore();
  });
});
