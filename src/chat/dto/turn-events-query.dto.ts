import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, Max, Min } from 'class-validator';
import { MAX_EVENT_ID } from '../turn-events/last-event-id';

export class TurnEventsQueryDto {
  /** Replay the events after this id (a `Last-Event-ID` header wins over it); omit for the whole turn. */
  @ApiPropertyOptional({ type: 'integer', format: 'int32', minimum: 0, maximum: MAX_EVENT_ID })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(MAX_EVENT_ID)
  after?: number;
}
