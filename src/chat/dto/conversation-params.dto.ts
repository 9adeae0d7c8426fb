import { ApiProperty } from '@nestjs/swagger';
import { IsUUID } from 'class-validator';
import { UserParamsDto } from '../../auth/dto/user-params.dto';

export class ConversationParamsDto extends UserParamsDto {
  /** The conversation's id (UUID). */
  @ApiProperty({ maxLength: 36 })
  @IsUUID()
  conversation_id: string;
}
