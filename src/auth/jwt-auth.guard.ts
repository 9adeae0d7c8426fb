import { ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard } from '@nestjs/passport';
import { TokenRejectedError, toAuthError } from './auth-failure';
import type { AuthUser } from './auth-user';
import { JWT_STRATEGY } from './jwt.strategy';
import { IS_PUBLIC_KEY } from '../common/http/public.decorator';

@Injectable()
export class JwtAuthGuard extends AuthGuard(JWT_STRATEGY) {
  constructor(private readonly reflector: Reflector) {
    super();
  }

  override canActivate(context: ExecutionContext) {
    const isPublic = this.reflector.getAllAndOverride<boolean | undefined>(IS_PUBLIC_KEY, [
      context.getHandler(),
      context.getClass(),
    ]);
    return isPublic === true || super.canActivate(context);
  }

  /** `err`: our claim checks threw (or a bug, logged as a 500); `info`: why passport-jwt refused the token. */
  override handleRequest<TUser = AuthUser>(err: unknown, user: TUser | false | null, info: unknown): TUser {
    if (err) throw err instanceof TokenRejectedError ? toAuthError(err) : err;
    if (!user) throw toAuthError(info);
    return user;
  }
}
