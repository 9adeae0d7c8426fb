import { PageCursor, PageQueryDto } from './page-query.dto';

export const CONVERSATIONS_DEFAULT_LIMIT = 20;

export class ListConversationsQueryDto extends PageQueryDto {
  /** Conversations per page, 1..200. */
  limit: number = CONVERSATIONS_DEFAULT_LIMIT;

  /** `next_cursor` of the previous page. Omit for the most recently active conversations. */
  @PageCursor()
  cursor?: string;
}
