import { AppError } from '../../src/common/errors/app-error';
import { describeErrorCode } from '../../src/common/errors/error-code';

/** How the problem filter will answer the rejection of `promise`: status, code and Retry-After. */
export async function problemOf(
  promise: Promise<unknown>,
): Promise<{ status: number; code: string; retryAfterSeconds?: number }> {
  const error: unknown = await promise.then(
    () => new Error('expected a rejection, got a result'),
    (reason: unknown) => reason,
  );
  if (!(error instanceof AppError)) throw error;
  return { status: describeErrorCode(error.code).status, code: error.code, retryAfterSeconds: error.retryAfterSeconds };
}
