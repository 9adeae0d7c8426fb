import { Transform } from 'class-transformer';
import { IsString, MaxLength } from 'class-validator';
import { HasVisibleText, IsStorableText } from '../../common/validation/storable-text';

export const TITLE_MAX_LENGTH = 200;

export class RenameConversationDto {
  /** The new title, 1..200 characters after trimming. */
  @Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value))
  @IsString()
  @HasVisibleText()
  @IsStorableText()
  @MaxLength(TITLE_MAX_LENGTH)
  title: string;
}
