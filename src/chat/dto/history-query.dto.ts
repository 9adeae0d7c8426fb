import { PageCursor, PageQueryDto } from './page-query.dto';

export const HISTORY_DEFAULT_LIMIT = 50;

export class HistoryQueryDto extends PageQueryDto {
  /** Messages per page, 1..200. */
  limit: number = HISTORY_DEFAULT_LIMIT;

  /** `next_cursor` of the previous page: returns the messages before it. Omit for the newest page. */
  @PageCursor()
  before?: string;
}
