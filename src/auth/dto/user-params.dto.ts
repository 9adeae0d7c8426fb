import { Allow } from 'class-validator';

/** The `user_id` path parameter of every `/api/{user_id}/...` route, declared so the strict pipe admits it. */
export class UserParamsDto {
  /**
   * The signed-in user. Not validated again here: the OwnershipGuard, which runs before any pipe, has
   * proved it equals the token's `sub`, itself validated when the token was verified.
   */
  @Allow()
  user_id: string;
}
