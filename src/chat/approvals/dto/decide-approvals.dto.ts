import { ApiProperty } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  ArrayUnique,
  IsArray,
  IsIn,
  IsOptional,
  IsString,
  IsUUID,
  MaxLength,
  ValidateNested,
} from 'class-validator';
import { IsStorableText } from '../../../common/validation/storable-text';

export const APPROVAL_DECISIONS = ['approve', 'deny'] as const;
export const MAX_DECISIONS = 64;

export class ApprovalDecisionDto {
  /** The `approval_id` of a pending approval of this conversation. */
  @ApiProperty({ format: 'uuid', maxLength: 36 })
  @IsUUID()
  approval_id: string;

  @ApiProperty({ enum: APPROVAL_DECISIONS })
  @IsIn(APPROVAL_DECISIONS)
  decision: (typeof APPROVAL_DECISIONS)[number];

  /** With a denial, handed to the model ("denied by the user: …"); at most 1000 characters. */
  @ApiProperty({ required: false, maxLength: 1000 })
  @IsOptional()
  @IsString()
  @MaxLength(1000)
  @IsStorableText()
  reason?: string;
}

export class DecideApprovalsDto {
  /** One decision for every pending approval of the paused turn (1..64, each approval once). */
  @ApiProperty({ type: [ApprovalDecisionDto], minItems: 1, maxItems: MAX_DECISIONS })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_DECISIONS)
  @ArrayUnique((decision: ApprovalDecisionDto) => decision?.approval_id, { message: 'each approval_id only once' })
  @ValidateNested({ each: true })
  @Type(() => ApprovalDecisionDto)
  decisions: ApprovalDecisionDto[];
}
