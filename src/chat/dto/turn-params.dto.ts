import { ApiProperty } from '@nestjs/swagger';
import { IsUUID } from 'class-validator';
import { ConversationParamsDto } from './conversation-params.dto';

export class TurnParamsDto extends ConversationParamsDto {
  /** The turn's id: its user message id (`turn_id` of `turn.started` and of the answer). */
  @ApiProperty({ maxLength: 36 })
  @IsUUID()
  turn_id: string;
}
