import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import type { AuthRequest, AuthUser } from './auth-user';

/** The authenticated principal; only on routes behind the JWT guard (not `@Public()`). */
export const CurrentUser = createParamDecorator((_data: unknown, context: ExecutionContext): AuthUser => {
  const { user } = context.switchToHttp().getRequest<AuthRequest>();
  if (!user) throw new Error('@CurrentUser() is used on a route that the JWT guard does not protect');
  return user;
});
