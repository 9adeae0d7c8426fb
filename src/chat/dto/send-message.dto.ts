import { IsOptional, IsString, IsUUID, Matches, MaxLength } from 'class-validator';

export const MESSAGE_MAX_LENGTH = 8000;

export class SendMessageDto {
  /** The user's message: 1..8000 characters, not blank. */
  @IsString()
  @MaxLength(MESSAGE_MAX_LENGTH)
  @Matches(/\S/, { message: 'message must not be empty or blank' })
  message: string;

  /** Continue this conversation; omit it to start a new one. */
  @IsOptional()
  @IsUUID()
  conversation_id?: string;
}
