import { ApiProperty } from '@nestjs/swagger';
import { IsOptional, IsString, IsUUID, MaxLength } from 'class-validator';
import { HasVisibleText, IsStorableText } from '../../common/validation/storable-text';

export const MESSAGE_MAX_LENGTH = 8000;

export class SendMessageDto {
  /** The user's message: 1..8000 characters, not blank. */
  @IsString()
  @MaxLength(MESSAGE_MAX_LENGTH)
  @HasVisibleText()
  @IsStorableText()
  message: string;

  /** Continue this conversation; omit it to start a new one. */
  @ApiProperty({ required: false, maxLength: 36 })
  @IsOptional()
  @IsUUID()
  conversation_id?: string;
}
