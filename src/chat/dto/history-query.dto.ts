import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';

export const HISTORY_DEFAULT_LIMIT = 50;
export const PAGE_MAX_LIMIT = 200;
export const CURSOR_MAX_LENGTH = 512;

export class HistoryQueryDto {
  /** Messages per page, 1..200. */
  @ApiPropertyOptional({ type: 'integer', format: 'int32' })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(PAGE_MAX_LIMIT)
  limit: number = HISTORY_DEFAULT_LIMIT;

  /** `next_cursor` of the previous page: returns the messages before it. Omit for the newest page. */
  @ApiPropertyOptional({ pattern: '^[A-Za-z0-9_-]+$' })
  @IsOptional()
  @IsString()
  @MaxLength(CURSOR_MAX_LENGTH)
  before?: string;
}
