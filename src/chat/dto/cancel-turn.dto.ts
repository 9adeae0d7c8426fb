import { ApiProperty } from '@nestjs/swagger';

export class CancelTurnAcceptedDto {
  @ApiProperty({ format: 'uuid' })
  turn_id: string;
  @ApiProperty({ format: 'uuid' })
  conversation_id: string;
}
