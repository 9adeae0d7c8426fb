import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import { CURSOR_MAX_LENGTH, PAGE_MAX_LIMIT } from './history-query.dto';

export const CONVERSATIONS_DEFAULT_LIMIT = 20;

export class ListConversationsQueryDto {
  /** Conversations per page, 1..200. */
  @ApiPropertyOptional({ type: 'integer', format: 'int32' })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(PAGE_MAX_LIMIT)
  limit: number = CONVERSATIONS_DEFAULT_LIMIT;

  /** `next_cursor` of the previous page. Omit for the most recently active conversations. */
  @ApiPropertyOptional({ pattern: '^[A-Za-z0-9_-]+$' })
  @IsOptional()
  @IsString()
  @MaxLength(CURSOR_MAX_LENGTH)
  cursor?: string;
}
