import { TaskEntity } from './task.entity';

export const TASKS_ENTITIES = [TaskEntity];
