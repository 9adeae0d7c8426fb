import { PreparedStatement } from '../database/prepared-statements';

export interface TaskRow {
  id: number;
  user_id: string;
  title: string;
  description: string | null;
  completed: boolean;
  created_at: Date;
  updated_at: Date;
}

export const CREATE_TASK_WITHIN_QUOTA = new PreparedStatement<TaskRow>(
  'tasks_create_within_quota',
  `INSERT INTO tasks (user_id, title, description)
   SELECT $1, $2, $3 WHERE (SELECT count(*) FROM tasks WHERE user_id = $1) < $4
   RETURNING *`,
);
