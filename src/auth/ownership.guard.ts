import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { AppError } from '../common/errors/app-error';
import { AUTH_DETAILS } from './auth-failure';
import type { AuthRequest } from './auth-user';

const USER_ID_PARAM = 'user_id';

/** A token acts only for its own subject; runs after the global JWT guard, so `request.user` is set. */
@Injectable()
export class OwnershipGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<AuthRequest>();
    const pathUserId = request.params?.[USER_ID_PARAM];
    if (pathUserId === undefined) {
      throw new Error(`OwnershipGuard is applied to a route without a :${USER_ID_PARAM} parameter`);
    }
    if (!request.user) throw new AppError('unauthorized', AUTH_DETAILS.missing);
    if (request.user.userId !== pathUserId) {
      throw new AppError('forbidden', "The user_id in the path does not match the token's subject (sub)");
    }
    return true;
  }
}
