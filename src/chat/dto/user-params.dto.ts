import { IsNotEmpty, IsString, MaxLength } from 'class-validator';

export const USER_ID_MAX_LENGTH = 255;

export class UserParamsDto {
  /** The signed-in user: must equal the token's `sub`. */
  @IsString()
  @IsNotEmpty()
  @MaxLength(USER_ID_MAX_LENGTH)
  user_id: string;
}
