import { Injectable, Logger } from '@nestjs/common';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { BuiltinMcpServer } from '../agent/mcp/builtin-mcp-server';
import { AppError } from '../common/errors/app-error';
import { decodeCursor, encodeCursor } from '../common/pagination/cursor';
import { AppConfig } from '../config/app-config';
import type { TaskEntity } from './task.entity';
import { TaskRepository } from './task.repository';
import {
  addTaskInput,
  LIST_TASKS_LIMIT,
  listTasksInput,
  TASK_ID_MAX,
  taskChangeOutput,
  taskIdInput,
  taskListOutput,
  updateTaskInput,
  type TaskChangeStatus,
  type TaskListOutput,
} from './task-tool-schemas';

export const TASKS_SERVER_NAME = 'tasks';

const FIND_ID_HINT = 'If the user names a task by its title, call list_tasks first to find its id.';

/** What a handler is told about the request: only the identity our own side attached. */
interface ToolCallExtra {
  authInfo?: AuthInfo;
}

/** No tool takes a user id: the caller is the `authInfo` our side attaches (SPEC §7). */
@Injectable()
export class TasksMcpServer extends BuiltinMcpServer {
  readonly name = TASKS_SERVER_NAME;
  private readonly logger = new Logger(TasksMcpServer.name);

  constructor(
    private readonly tasks: TaskRepository,
    private readonly config: AppConfig,
  ) {
    super();
  }

  createServer(): McpServer {
    const server = new McpServer(
      { name: TASKS_SERVER_NAME, version: '1.0.0' },
      {
        instructions:
          "Manages the signed-in user's to-do list. Tasks have small integer ids; find an id with list_tasks " +
          'before changing a task the user names by its title.',
      },
    );

    server.registerTool(
      'add_task',
      {
        title: 'Add a task',
        description:
          "Add a task to the user's to-do list, e.g. when they ask to add, remember or note something to do. " +
          'Returns the new task with its id.',
        inputSchema: addTaskInput,
        outputSchema: taskChangeOutput('created'),
      },
      ({ title, description }, extra) =>
        this.asCaller(extra, async (userId) => {
          const { maxPerUser } = this.config.tasks;
          const task = await this.tasks.createWithinQuota(
            userId,
            { title, description: description || null },
            maxPerUser,
          );
          return task ? changed(task, 'created') : quotaReached(maxPerUser);
        }),
    );

    server.registerTool(
      'list_tasks',
      {
        title: 'List tasks',
        description:
          "List the user's tasks, oldest first, with their ids, titles, descriptions and whether they are done. " +
          'Use it to answer questions about the list ("what\'s pending?") and to find the id of a task the user ' +
          `names by its title. Returns at most ${LIST_TASKS_LIMIT} tasks; when has_more is true, call it again with ` +
          'cursor set to next_cursor (and the same status) for the next page.',
        inputSchema: listTasksInput,
        outputSchema: taskListOutput,
        annotations: { readOnlyHint: true },
      },
      ({ status, cursor }, extra) =>
        this.asCaller(extra, async (userId) => {
          // The status is part of the scope: a cursor of the pending tasks is no position among all of them.
          const scope = `tasks:${status}`;
          const afterId =
            cursor === undefined ? undefined : decodeCursor(cursor, { scope, field: 'cursor' }, parseTaskPosition).id;
          const rows = await this.tasks.listForUser(userId, status, LIST_TASKS_LIMIT + 1, afterId);
          const page = rows.slice(0, LIST_TASKS_LIMIT);
          const last = page.at(-1);
          const hasMore = rows.length > LIST_TASKS_LIMIT;
          const list: TaskListOutput = {
            tasks: page.map((task) => ({
              task_id: task.id,
              title: task.title,
              description: task.description,
              completed: task.completed,
              created_at: task.createdAt.toISOString(),
            })),
            has_more: hasMore,
            next_cursor: hasMore && last ? encodeCursor(scope, { id: last.id }) : null,
          };
          return result(list);
        }),
    );

    server.registerTool(
      'complete_task',
      {
        title: 'Complete a task',
        description: `Mark one of the user's tasks as done, by its id. ${FIND_ID_HINT} Completing a task that is already done changes nothing.`,
        inputSchema: taskIdInput,
        outputSchema: taskChangeOutput('completed'),
        annotations: { idempotentHint: true },
      },
      ({ task_id }, extra) =>
        this.asCaller(extra, async (userId) => {
          const task = await this.tasks.completeForUser(userId, task_id);
          return task ? changed(task, 'completed') : notFound(task_id);
        }),
    );

    server.registerTool(
      'delete_task',
      {
        title: 'Delete a task',
        description: `Delete one of the user's tasks by its id. ${FIND_ID_HINT} This cannot be undone.`,
        inputSchema: taskIdInput,
        outputSchema: taskChangeOutput('deleted'),
        annotations: { destructiveHint: true },
      },
      ({ task_id }, extra) =>
        this.asCaller(extra, async (userId) => {
          const task = await this.tasks.deleteForUser(userId, task_id);
          return task ? changed(task, 'deleted') : notFound(task_id);
        }),
    );

    server.registerTool(
      'update_task',
      {
        title: 'Update a task',
        description:
          `Change the title, the description, or both, of one of the user's tasks, by its id. ${FIND_ID_HINT} ` +
          'Give at least one of title and description; an empty description removes it. ' +
          'To mark a task done, use complete_task.',
        inputSchema: updateTaskInput,
        outputSchema: taskChangeOutput('updated'),
        annotations: { idempotentHint: true },
      },
      ({ task_id, title, description }, extra) =>
        this.asCaller(extra, async (userId) => {
          const changes = {
            ...(title === undefined ? {} : { title }),
            ...(description === undefined ? {} : { description: description || null }),
          };
          const task = await this.tasks.updateForUser(userId, task_id, changes);
          return task ? changed(task, 'updated') : notFound(task_id);
        }),
    );

    return server;
  }

  /** A database failure becomes a generic tool error: the SDK would pass the driver's message to the model. */
  private async asCaller(extra: ToolCallExtra, run: (userId: string) => Promise<CallToolResult>) {
    const userId = extra.authInfo?.extra?.userId;
    if (typeof userId !== 'string' || userId === '') return toolError('not authenticated');
    try {
      return await run(userId);
    } catch (error) {
      // Our own refusals (a bad cursor) carry a detail fit for the model.
      if (error instanceof AppError) return toolError(error.detail);
      this.logger.error(`A tasks tool failed: ${error instanceof Error ? error.message : String(error)}`);
      return toolError('The task list is unavailable right now; try again later.');
    }
  }
}

/** The same object as JSON text, for clients that read only content, and as structuredContent. */
function result(structured: Record<string, unknown>): CallToolResult {
  return { content: [{ type: 'text', text: JSON.stringify(structured) }], structuredContent: structured };
}

function changed(task: TaskEntity, status: TaskChangeStatus): CallToolResult {
  return result({ task_id: task.id, status, title: task.title });
}

function parseTaskPosition({ id }: Record<string, unknown>): { id: number } | undefined {
  return typeof id === 'number' && Number.isInteger(id) && id > 0 && id <= TASK_ID_MAX ? { id } : undefined;
}

function quotaReached(maxTasks: number): CallToolResult {
  return toolError(
    `The user has reached the limit of ${maxTasks} tasks: nothing was added. Delete tasks they no longer need, then add it again.`,
  );
}

function notFound(taskId: number): CallToolResult {
  return toolError(`task ${taskId} not found`);
}

function toolError(text: string): CallToolResult {
  return { isError: true, content: [{ type: 'text', text }] };
}
