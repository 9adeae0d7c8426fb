import Anthropic from '@anthropic-ai/sdk';
import { AppError } from '../../common/errors/app-error';

const OVERLOADED_TYPES = new Set(['overloaded_error', 'rate_limit_error']);
/** A provider's Retry-After is passed on up to this: a client told to wait hours would give up on the service. */
const MAX_RETRY_AFTER_SECONDS = 60;

/** The provider's message stays in the log (as the cause); the client gets a provider-neutral detail. */
export function toModelError(error: unknown, signal?: AbortSignal): AppError {
  if (error instanceof AppError) return error;
  // An abort with a reason of ours (e.g. shutdown) says why; any other abort is the turn's timeout.
  if (signal?.aborted && signal.reason instanceof AppError) return signal.reason;
  if (signal?.aborted || error instanceof Anthropic.APIConnectionTimeoutError) {
    return new AppError('model_timeout', 'The model did not answer in time; try again.', { cause: error });
  }
  if (error instanceof Anthropic.APIError) {
    const overloaded = error.status === 429 || error.status === 529 || OVERLOADED_TYPES.has(error.type ?? '');
    if (overloaded) {
      return new AppError('model_overloaded', 'The model is overloaded right now; retry after a short wait.', {
        cause: error,
        retryAfterSeconds: Math.min(MAX_RETRY_AFTER_SECONDS, retryAfterSeconds(error.headers) ?? 5),
      });
    }
  }
  return new AppError('model_error', 'The model request failed; try again later.', { cause: error });
}

export function retryAfterSeconds(headers: Headers | undefined): number | undefined {
  const value = headers?.get('retry-after');
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, Math.ceil((date - Date.now()) / 1000));
}
