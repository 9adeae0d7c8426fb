import { applyDecorators } from '@nestjs/common';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';

export const PAGE_MAX_LIMIT = 200;
export const CURSOR_MAX_LENGTH = 512;

/** The `next_cursor` of a previous page, passed back as sent: each listing names it its own way. */
export function PageCursor(): PropertyDecorator {
  return applyDecorators(
    ApiPropertyOptional({ maxLength: CURSOR_MAX_LENGTH, pattern: '^[A-Za-z0-9_-]+$' }),
    IsOptional(),
    IsString(),
    MaxLength(CURSOR_MAX_LENGTH),
  );
}

/** Keyset paging: every listing bounds its page size alike; each sets its default and cursor. */
export abstract class PageQueryDto {
  @ApiPropertyOptional({ type: 'integer', format: 'int32' })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(PAGE_MAX_LIMIT)
  abstract limit: number;
}
