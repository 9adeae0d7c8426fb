import { CHAT_ENTITIES } from './chat/chat.entities';
import { TASKS_ENTITIES } from './tasks/tasks.entities';

/** Every entity, for the service, the migration CLI and the tests alike. */
export const ALL_ENTITIES = [...CHAT_ENTITIES, ...TASKS_ENTITIES];
