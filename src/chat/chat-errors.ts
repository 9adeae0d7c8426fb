import { AppError } from '../common/errors/app-error';

/** The same answer whether the conversation does not exist or belongs to someone else. */
export function conversationNotFound(conversationId: string): AppError {
  return new AppError('conversation_not_found', `Conversation ${conversationId} was not found.`);
}
