import type { ExecutionContext } from '@nestjs/common';
import { AppError } from '../common/errors/app-error';
import type { AuthRequest } from './auth-user';
import { OwnershipGuard } from './ownership.guard';

function contextFor(request: Partial<AuthRequest>): ExecutionContext {
  return { switchToHttp: () => ({ getRequest: () => ({ headers: {}, ...request }) }) } as unknown as ExecutionContext;
}

const alice = { userId: 'alice', token: 't', claims: { sub: 'alice' } };

describe(OwnershipGuard.name, () => {
  const guard = new OwnershipGuard();

  it('lets a user act under their own user_id', () => {
    expect(guard.canActivate(contextFor({ params: { user_id: 'alice' }, user: alice }))).toBe(true);
  });

  it("answers 403 for another user's user_id", () => {
    const act = () => guard.canActivate(contextFor({ params: { user_id: 'bob' }, user: alice }));

    expect(act).toThrow(AppError);
    expect(act).toThrow(expect.objectContaining({ code: 'forbidden' }));
  });

  it('answers 401 when no user was authenticated', () => {
    expect(() => guard.canActivate(contextFor({ params: { user_id: 'alice' } }))).toThrow(
      expect.objectContaining({ code: 'unauthorized' }),
    );
  });

  it('fails loudly when put on a route without :user_id', () => {
    expect(() => guard.canActivate(contextFor({ params: {}, user: alice }))).toThrow(/without a :user_id parameter/);
  });
});
