import type { DatabaseError } from 'pg';
import { QueryFailedError } from 'typeorm';
import type { ToolCallDto } from '../src/chat/dto/message.dto';
import { TaskEntity } from '../src/tasks/task.entity';
import type { RecordedRequest } from './support/anthropic-simulator';
import { startChatHarness, type ChatHarness } from './support/chat-harness';
import { newUserId } from './support/test-app';

interface ToolCall {
  name: string;
  input: Record<string, unknown>;
  id?: string;
}

interface ListedTask {
  task_id: number;
  title: string;
  description: string | null;
  completed: boolean;
  created_at: string;
}

const TOOL_NAMES = ['add_task', 'complete_task', 'delete_task', 'list_tasks', 'update_task'];

describe('The built-in tasks MCP server, through POST /api/{user_id}/chat', () => {
  let h: ChatHarness;

  beforeAll(async () => {
    h = await startChatHarness({ servers: 'builtin' });
  });
  afterAll(() => h.close());
  beforeEach(() => h.sim.reset());

  const tasks = () => h.t.dataSource.getRepository(TaskEntity);
  const tasksOf = (userId: string) => tasks().find({ where: { userId }, order: { id: 'ASC' } });
  const insertTask = (userId: string, overrides: Partial<TaskEntity> = {}) =>
    tasks().save(tasks().create({ userId, title: 'A task', ...overrides }));
  /** An id that no task has any more. */
  const vanishedTaskId = async () => {
    const task = await insertTask(newUserId());
    await tasks().delete({ id: task.id });
    return task.id;
  };

  /** One turn in which the scripted model makes these tool calls in one round, then answers. */
  async function runTools(userId: string, ...calls: ToolCall[]): Promise<ToolCallDto[]> {
    h.sim.enqueue({ kind: 'tool_use', calls }, { kind: 'text', text: 'Done.' });
    const response = await h.send({ message: 'Please manage my tasks.' }, userId);
    expect(response.statusCode).toBe(200);
    return response.json().tool_calls;
  }

  it('offers the model the five task tools, with strict schemas that take no user id', async () => {
    h.sim.enqueue({ kind: 'text', text: 'Hi.' });
    await h.send({ message: 'Which tools do you have?' });

    const offered: { name: string; description: string; input_schema: Record<string, unknown> }[] =
      h.sim.requests[0].body.tools;
    expect(offered.map((tool) => tool.name).sort()).toEqual(TOOL_NAMES);
    for (const tool of offered) {
      expect(tool.input_schema).toMatchObject({ type: 'object', additionalProperties: false });
      expect(Object.keys(tool.input_schema.properties as object)).not.toContain('user_id');
    }
    const deleteTask = offered.find((tool) => tool.name === 'delete_task');
    expect(deleteTask?.description).toMatch(/call list_tasks first to find its id/);
  });

  describe('add_task', () => {
    it('adds a task for the caller and answers with its id, status and title', async () => {
      const userId = newUserId();

      const [call] = await runTools(userId, {
        name: 'add_task',
        input: { title: 'Buy milk', description: 'Two litres, semi-skimmed' },
      });

      const [stored] = await tasksOf(userId);
      expect(call).toMatchObject({
        tool: 'add_task',
        server: 'tasks',
        is_error: false,
        result: { task_id: stored.id, status: 'created', title: 'Buy milk' },
      });
      expect(stored).toMatchObject({ title: 'Buy milk', description: 'Two litres, semi-skimmed', completed: false });
      const toolResult = (h.sim.requests[1].body.messages as { content: { content?: unknown }[] }[]).at(-1);
      expect(JSON.parse(String(toolResult?.content[0].content))).toEqual(call.result);
    });

    it('trims the title and stores no description when none is given', async () => {
      const userId = newUserId();

      const [call] = await runTools(userId, { name: 'add_task', input: { title: '  Call the plumber \n' } });

      expect(call.result).toMatchObject({ title: 'Call the plumber' });
      expect(await tasksOf(userId)).toEqual([
        expect.objectContaining({ title: 'Call the plumber', description: null }),
      ]);
    });

    it.each([
      ['a blank title', { title: '   ' }, /title must not be blank/],
      ['a missing title', { description: 'no title' }, /title/],
      ['a title over 200 characters', { title: 'x'.repeat(201) }, /title/],
      ['a description over 1000 characters', { title: 'ok', description: 'd'.repeat(1001) }, /description/],
    ])('refuses %s as a tool error and stores nothing', async (_case, input, message) => {
      const userId = newUserId();

      const [call] = await runTools(userId, { name: 'add_task', input });

      expect(call.is_error).toBe(true);
      expect(String(call.result)).toMatch(message);
      expect(await tasksOf(userId)).toEqual([]);
    });

    it.each([
      ['a NUL in the title', { title: 'Buy\u0000milk' }, /title/],
      ['a NUL in the description', { title: 'ok', description: 'two\u0000litres' }, /description/],
      ['a lone surrogate in the title', { title: 'Buy \ud800 milk' }, /title/],
      ['a lone surrogate in the description', { title: 'ok', description: 'semi \udfff skimmed' }, /description/],
    ])('refuses %s as a clean tool error, not a database error, storing nothing', async (_case, input, field) => {
      const userId = newUserId();

      const [call] = await runTools(userId, { name: 'add_task', input });

      expect(call.is_error).toBe(true);
      expect(String(call.result)).toMatch(field);
      expect(String(call.result)).toMatch(/NUL characters or unpaired surrogates/);
      expect(await tasksOf(userId)).toEqual([]);
    });

    it('refuses an extra user_id argument instead of ignoring it, and stores nothing for anyone', async () => {
      const [caller, victim] = [newUserId(), newUserId()];

      const [call] = await runTools(caller, { name: 'add_task', input: { title: 'Planted', user_id: victim } });

      expect(call.is_error).toBe(true);
      expect(String(call.result)).toMatch(/Unrecognized key: "user_id"/);
      expect(await tasksOf(caller)).toEqual([]);
      expect(await tasksOf(victim)).toEqual([]);
    });
  });

  describe('list_tasks', () => {
    it('lists the caller’s tasks oldest first, all by default or filtered by status', async () => {
      const userId = newUserId();
      const milk = await insertTask(userId, { title: 'Buy milk', description: '2 l' });
      const bills = await insertTask(userId, { title: 'Pay bills', completed: true });

      const [all, pending, completed] = await runTools(
        userId,
        { name: 'list_tasks', input: {} },
        { name: 'list_tasks', input: { status: 'pending' } },
        { name: 'list_tasks', input: { status: 'completed' } },
      );

      const listed = (call: ToolCallDto) => (call.result as { tasks: ListedTask[] }).tasks;
      expect(all.result).toEqual({
        tasks: [
          {
            task_id: milk.id,
            title: 'Buy milk',
            description: '2 l',
            completed: false,
            created_at: milk.createdAt.toISOString(),
          },
          {
            task_id: bills.id,
            title: 'Pay bills',
            description: null,
            completed: true,
            created_at: bills.createdAt.toISOString(),
          },
        ],
        has_more: false,
        next_cursor: null,
      });
      expect(listed(pending).map((task) => task.task_id)).toEqual([milk.id]);
      expect(listed(completed).map((task) => task.task_id)).toEqual([bills.id]);
    });

    it('pages past 100 tasks with an opaque next_cursor, each page disjoint, the last with none', async () => {
      const userId = newUserId();
      await h.t.dataSource.query(
        `INSERT INTO tasks (user_id, title) SELECT $1, 'task ' || n FROM generate_series(1, 105) AS n`,
        [userId],
      );
      const [first] = await runTools(userId, { name: 'list_tasks', input: {} });
      const firstPage = first.result as { tasks: ListedTask[]; has_more: boolean; next_cursor: string | null };

      const [second] = await runTools(userId, { name: 'list_tasks', input: { cursor: firstPage.next_cursor } });

      const secondPage = second.result as typeof firstPage;
      expect(firstPage.tasks).toHaveLength(100);
      expect(firstPage).toMatchObject({ has_more: true, next_cursor: expect.any(String) });
      expect(secondPage).toMatchObject({ has_more: false, next_cursor: null });
      const titles = [...firstPage.tasks, ...secondPage.tasks].map((task) => task.title);
      expect(titles).toEqual(Array.from({ length: 105 }, (_, index) => `task ${index + 1}`));
    });

    it('refuses a forged cursor, or one from a listing with another status, as a tool error', async () => {
      const userId = newUserId();
      await h.t.dataSource.query(
        `INSERT INTO tasks (user_id, title) SELECT $1, 'task ' || n FROM generate_series(1, 101) AS n`,
        [userId],
      );
      const [pending] = await runTools(userId, { name: 'list_tasks', input: { status: 'pending' } });
      const { next_cursor } = pending.result as { next_cursor: string };

      const [otherStatus, forged] = await runTools(
        userId,
        { name: 'list_tasks', input: { status: 'all', cursor: next_cursor } },
        {
          name: 'list_tasks',
          input: { cursor: Buffer.from('{"scope":"tasks:all","id":"1 OR 1=1"}').toString('base64url') },
        },
      );

      for (const call of [otherStatus, forged]) {
        expect(call).toMatchObject({ is_error: true, result: expect.stringMatching(/not a cursor of this listing/) });
      }
    });

    it('answers an empty list for a user with no tasks', async () => {
      const [call] = await runTools(newUserId(), { name: 'list_tasks', input: { status: 'all' } });
      expect(call).toMatchObject({ is_error: false, result: { tasks: [], has_more: false, next_cursor: null } });
    });

    it('refuses a status other than all, pending or completed', async () => {
      const [call] = await runTools(newUserId(), { name: 'list_tasks', input: { status: 'done' } });
      expect(call.is_error).toBe(true);
      expect(String(call.result)).toMatch(/status/);
    });
  });

  describe('complete_task', () => {
    it('marks the task done', async () => {
      const userId = newUserId();
      const task = await insertTask(userId, { title: 'Water the plants' });
      // An hour old, so a bumped updated_at is later whatever the clock's resolution.
      await tasks().update({ id: task.id }, { updatedAt: new Date(Date.now() - 3_600_000) });

      const [call] = await runTools(userId, { name: 'complete_task', input: { task_id: task.id } });

      expect(call.result).toEqual({ task_id: task.id, status: 'completed', title: 'Water the plants' });
      const [stored] = await tasksOf(userId);
      expect(stored.completed).toBe(true);
      expect(stored.updatedAt.getTime()).toBeGreaterThan(Date.now() - 60_000);
    });

    it('answers "task N not found" for an unknown id, a tool error the model can explain', async () => {
      const taskId = await vanishedTaskId();
      h.sim.enqueue(
        { kind: 'tool_use', calls: [{ name: 'complete_task', input: { task_id: taskId } }] },
        { kind: 'text', text: `I could not find task ${taskId}.` },
      );

      const response = await h.send({ message: `Mark task ${taskId} done` });

      expect(response.statusCode).toBe(200);
      expect(response.json().tool_calls[0]).toMatchObject({ is_error: true, result: `task ${taskId} not found` });
      expect((h.sim.requests[1].body.messages as { content: unknown[] }[]).at(-1)?.content[0]).toMatchObject({
        type: 'tool_result',
        is_error: true,
        content: `task ${taskId} not found`,
      });
    });

    it.each([
      ['zero', 0],
      ['a string', '3'],
      ['a fraction', 1.5],
    ])('refuses a task_id that is %s', async (_case, taskId) => {
      const [call] = await runTools(newUserId(), { name: 'complete_task', input: { task_id: taskId } });
      expect(call.is_error).toBe(true);
      expect(String(call.result)).toMatch(/task_id/);
    });
  });

  describe('delete_task', () => {
    it('deletes the task and answers with its title', async () => {
      const userId = newUserId();
      const keep = await insertTask(userId, { title: 'Keep me' });
      const drop = await insertTask(userId, { title: 'Drop me' });

      const [call] = await runTools(userId, { name: 'delete_task', input: { task_id: drop.id } });

      expect(call.result).toEqual({ task_id: drop.id, status: 'deleted', title: 'Drop me' });
      expect((await tasksOf(userId)).map((task) => task.id)).toEqual([keep.id]);
    });

    it('answers "task N not found" for an unknown id', async () => {
      const taskId = await vanishedTaskId();
      const [call] = await runTools(newUserId(), { name: 'delete_task', input: { task_id: taskId } });
      expect(call).toMatchObject({ is_error: true, result: `task ${taskId} not found` });
    });
  });

  describe('update_task', () => {
    it('changes the title and the description', async () => {
      const userId = newUserId();
      const task = await insertTask(userId, { title: 'Old title', description: 'old' });

      const [call] = await runTools(userId, {
        name: 'update_task',
        input: { task_id: task.id, title: 'New title', description: 'new details' },
      });

      expect(call.result).toEqual({ task_id: task.id, status: 'updated', title: 'New title' });
      expect(await tasksOf(userId)).toEqual([
        expect.objectContaining({ title: 'New title', description: 'new details', completed: false }),
      ]);
    });

    it('changes only what it is given, an empty description removing it', async () => {
      const userId = newUserId();
      const task = await insertTask(userId, { title: 'Keep this title', description: 'remove me' });

      const [call] = await runTools(userId, { name: 'update_task', input: { task_id: task.id, description: '' } });

      expect(call.result).toEqual({ task_id: task.id, status: 'updated', title: 'Keep this title' });
      expect(await tasksOf(userId)).toEqual([expect.objectContaining({ title: 'Keep this title', description: null })]);
    });

    it('refuses an update that changes nothing, or a blank title', async () => {
      const userId = newUserId();
      const task = await insertTask(userId, { title: 'Untouched' });

      const [nothing, blank] = await runTools(
        userId,
        { name: 'update_task', input: { task_id: task.id } },
        { name: 'update_task', input: { task_id: task.id, title: ' ' } },
      );

      expect(nothing).toMatchObject({ is_error: true, result: expect.stringMatching(/title, a new description/) });
      expect(blank).toMatchObject({ is_error: true, result: expect.stringMatching(/title must not be blank/) });
      expect(await tasksOf(userId)).toEqual([expect.objectContaining({ title: 'Untouched' })]);
    });

    it('refuses a lone surrogate or a NUL in a new title, leaving the task as it was', async () => {
      const userId = newUserId();
      const task = await insertTask(userId, { title: 'Untouched' });

      const calls = await runTools(
        userId,
        { name: 'update_task', input: { task_id: task.id, title: 'half \ud83d' } },
        { name: 'update_task', input: { task_id: task.id, description: 'nul \u0000' } },
      );

      for (const call of calls) {
        expect(call).toMatchObject({ is_error: true, result: expect.stringMatching(/unpaired surrogates/) });
      }
      expect(await tasksOf(userId)).toEqual([expect.objectContaining({ title: 'Untouched', description: null })]);
    });

    it('answers "task N not found" for an unknown id', async () => {
      const taskId = await vanishedTaskId();
      const [call] = await runTools(newUserId(), { name: 'update_task', input: { task_id: taskId, title: 'x' } });
      expect(call).toMatchObject({ is_error: true, result: `task ${taskId} not found` });
    });
  });

  it('carries out a two-step plan: finds the meeting task with list_tasks, then deletes it by the id it found', async () => {
    const userId = newUserId();
    const groceries = await insertTask(userId, { title: 'Buy groceries' });
    const meeting = await insertTask(userId, { title: 'Prepare the Monday meeting' });
    const dentist = await insertTask(userId, { title: 'Call the dentist' });
    // The scripted model reads the list it got back, as Claude would, to pick the id.
    h.sim.respondWith((request: RecordedRequest) => {
      const lastBlock = (request.body.messages as { content: unknown }[]).at(-1)?.content;
      const result = Array.isArray(lastBlock)
        ? (lastBlock as { type: string; tool_use_id?: string; content?: string }[]).find(
            (block) => block.type === 'tool_result',
          )
        : undefined;
      if (result === undefined)
        return { kind: 'tool_use', calls: [{ name: 'list_tasks', input: {}, id: 'toolu_list' }] };
      if (result.tool_use_id === 'toolu_list') {
        const listed = JSON.parse(String(result.content)) as { tasks: ListedTask[] };
        const found = listed.tasks.find((task) => /meeting/i.test(task.title));
        return {
          kind: 'tool_use',
          calls: [{ name: 'delete_task', input: { task_id: found?.task_id }, id: 'toolu_del' }],
        };
      }
      return { kind: 'text', text: 'I deleted “Prepare the Monday meeting”.' };
    });

    const response = await h.send({ message: 'Delete the meeting task' }, userId);

    expect(response.statusCode).toBe(200);
    const calls: ToolCallDto[] = response.json().tool_calls;
    expect(calls.map((call) => call.tool)).toEqual(['list_tasks', 'delete_task']);
    expect(calls[1]).toMatchObject({
      arguments: { task_id: meeting.id },
      is_error: false,
      result: { task_id: meeting.id, status: 'deleted', title: 'Prepare the Monday meeting' },
    });
    expect((await tasksOf(userId)).map((task) => task.id)).toEqual([groceries.id, dentist.id]);
  });

  describe('the tasks table', () => {
    it.each([
      ['a title over 200 characters', { title: 'x'.repeat(201) }, 'CHK_tasks_title_length'],
      ['an empty title', { title: '' }, 'CHK_tasks_title_length'],
      ['a description over 1000 characters', { description: 'd'.repeat(1001) }, 'CHK_tasks_description_length'],
    ])('refuses %s even from a caller that skipped validation', async (_case, values, constraint) => {
      const error = await insertTask(newUserId(), values).catch((reason: unknown) => reason);

      expect(error).toBeInstanceOf(QueryFailedError);
      expect((error as QueryFailedError<DatabaseError>).driverError).toMatchObject({ code: '23514', constraint });
    });

    it('numbers tasks with small increasing integers, starting not completed', async () => {
      const userId = newUserId();
      const first = await insertTask(userId);
      const second = await insertTask(userId);

      expect(Number.isInteger(first.id) && first.id > 0).toBe(true);
      expect(second.id).toBeGreaterThan(first.id);
      expect(first).toMatchObject({ completed: false, description: null });
    });
  });

  describe('isolation between users', () => {
    it('never shows user B the tasks of user A', async () => {
      const [a, b] = [newUserId(), newUserId()];
      await insertTask(a, { title: 'A’s secret' });
      const own = await insertTask(b, { title: 'B’s own' });

      const [call] = await runTools(b, { name: 'list_tasks', input: {} });

      expect((call.result as { tasks: ListedTask[] }).tasks.map((task) => task.task_id)).toEqual([own.id]);
    });

    it('does not let user B complete, update or delete A’s tasks by their ids: task N not found, A’s rows untouched', async () => {
      const [a, b] = [newUserId(), newUserId()];
      const first = await insertTask(a, { title: 'A one', description: 'keep' });
      const second = await insertTask(a, { title: 'A two' });
      const before = await tasksOf(a);

      const calls = await runTools(
        b,
        { name: 'complete_task', input: { task_id: first.id } },
        { name: 'update_task', input: { task_id: first.id, title: 'Hijacked', description: '' } },
        { name: 'delete_task', input: { task_id: second.id } },
      );

      expect(calls.map((call) => [call.is_error, call.result])).toEqual([
        [true, `task ${first.id} not found`],
        [true, `task ${first.id} not found`],
        [true, `task ${second.id} not found`],
      ]);
      expect(await tasksOf(a)).toEqual(before);
    });

    it('refuses a user_id argument naming A on every tool, leaving A’s rows untouched', async () => {
      const [a, b] = [newUserId(), newUserId()];
      const task = await insertTask(a, { title: 'A’s task' });
      const before = await tasksOf(a);

      const calls = await runTools(
        b,
        { name: 'list_tasks', input: { user_id: a } },
        { name: 'add_task', input: { title: 'x', user_id: a } },
        { name: 'complete_task', input: { task_id: task.id, user_id: a } },
        { name: 'update_task', input: { task_id: task.id, title: 'Hijacked', user_id: a } },
        { name: 'delete_task', input: { task_id: task.id, user_id: a } },
      );

      expect(calls).toHaveLength(5);
      for (const call of calls) {
        expect(call).toMatchObject({ is_error: true, result: expect.stringMatching(/Unrecognized key: "user_id"/) });
      }
      expect(await tasksOf(a)).toEqual(before);
      expect(await tasksOf(b)).toEqual([]);
    });
  });
});
