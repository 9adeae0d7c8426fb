import { ApiProperty } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, IsUUID, MaxLength } from 'class-validator';
import { HasVisibleText, IsStorableText } from '../../common/validation/storable-text';
import { BUSY_POLICIES, type BusyPolicy } from '../turns/turn-lease.service';

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

  /**
   * While another turn of the conversation runs: `wait` (a bounded wait, then 409 `conversation_busy`),
   * `reject` (409 at once), or `interrupt` (cancel the running turn, then run this one).
   */
  @ApiProperty({ required: false, enum: BUSY_POLICIES, default: 'wait' })
  @IsOptional()
  @IsIn(BUSY_POLICIES)
  on_busy?: BusyPolicy;
}
