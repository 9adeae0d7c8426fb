export class ConversationDto {
  id: string;
  /** Set from the first message; renamable. */
  title: string | null;
  /** ISO 8601 UTC. */
  created_at: string;
  /** Last activity (a turn or a rename), ISO 8601 UTC. */
  updated_at: string;
  message_count: number;
}

export class ConversationPageDto {
  data: ConversationDto[];
  has_more: boolean;
  /** Pass as `cursor` to get the next (older) page; null on the last page. */
  next_cursor: string | null;
}
