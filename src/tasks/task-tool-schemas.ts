import { z } from 'zod';
import { isStorableText, unstorableTextMessage } from '../common/validation/storable-text';
import { TASK_DESCRIPTION_MAX_LENGTH, TASK_TITLE_MAX_LENGTH } from './task.entity';

/** The largest PostgreSQL `integer`: a bigger id is a validation error, not a database error. */
export const TASK_ID_MAX = 2_147_483_647;
/** list_tasks returns at most this many tasks, so one call cannot flood the model's context. */
export const LIST_TASKS_LIMIT = 100;
/** Far longer than any cursor list_tasks hands out. */
const CURSOR_MAX_LENGTH = 200;

export const TASK_STATUS_FILTERS = ['all', 'pending', 'completed'] as const;

const taskId = z
  .number()
  .int()
  .positive()
  .max(TASK_ID_MAX)
  .describe('The id of the task, as add_task or list_tasks returned it.');

const title = z
  .string()
  .trim()
  .min(1, 'title must not be blank')
  .max(TASK_TITLE_MAX_LENGTH)
  .refine(isStorableText, unstorableTextMessage('title'))
  .describe(`A short title, 1 to ${TASK_TITLE_MAX_LENGTH} characters.`);

const description = z
  .string()
  .trim()
  .max(TASK_DESCRIPTION_MAX_LENGTH)
  .refine(isStorableText, unstorableTextMessage('description'))
  .describe(`Optional details, up to ${TASK_DESCRIPTION_MAX_LENGTH} characters; an empty string means none.`);

// Strict objects: an undeclared argument (say a `user_id` the model made up) is refused, never ignored.
export const addTaskInput = z.strictObject({ title, description: description.optional() });

export const listTasksInput = z.strictObject({
  status: z
    .enum(TASK_STATUS_FILTERS)
    .default('all')
    .describe("'pending' for open tasks, 'completed' for done ones, 'all' (the default) for both."),
  cursor: z
    .string()
    .max(CURSOR_MAX_LENGTH)
    .optional()
    .describe(
      'next_cursor of the previous list_tasks call, with the same status, for the next page; omit it for the first.',
    ),
});

export const taskIdInput = z.strictObject({ task_id: taskId });

export const updateTaskInput = z
  .strictObject({ task_id: taskId, title: title.optional(), description: description.optional() })
  .refine((input) => input.title !== undefined || input.description !== undefined, {
    message: 'give a new title, a new description, or both',
  });

export type TaskChangeStatus = 'created' | 'completed' | 'deleted' | 'updated';

export function taskChangeOutput<S extends TaskChangeStatus>(status: S) {
  return z.object({ task_id: z.number().int(), status: z.literal(status), title: z.string() });
}

export const taskListOutput = z.object({
  tasks: z.array(
    z.object({
      task_id: z.number().int(),
      title: z.string(),
      description: z.string().nullable(),
      completed: z.boolean(),
      created_at: z.string().describe('ISO 8601, UTC'),
    }),
  ),
  has_more: z.boolean().describe(`True when the user has more tasks than the ${LIST_TASKS_LIMIT} listed.`),
  next_cursor: z
    .string()
    .nullable()
    .describe('Pass it as cursor, with the same status, to list the next page; null on the last page.'),
});

export type TaskListOutput = z.infer<typeof taskListOutput>;
