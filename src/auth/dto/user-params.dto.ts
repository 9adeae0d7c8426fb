import { IsNotEmpty, IsString, MaxLength } from 'class-validator';
import { IsStorableText } from '../../common/validation/storable-text';
import { MAX_SUBJECT_LENGTH } from '../auth-failure';

/** The `user_id` path parameter of every `/api/{user_id}/...` route. */
export class UserParamsDto {
  /** The signed-in user: must equal the token's `sub`. */
  @IsString()
  @IsNotEmpty()
  @MaxLength(MAX_SUBJECT_LENGTH)
  @IsStorableText()
  user_id: string;
}
