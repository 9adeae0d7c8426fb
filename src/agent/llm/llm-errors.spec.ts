import Anthropic from '@anthropic-ai/sdk';
import { toModelError } from './llm-errors';

const overload = (retryAfter: string) =>
  Anthropic.APIError.generate(
    429,
    { type: 'error', error: { type: 'rate_limit_error', message: 'slow down' } },
    'slow down',
    new Headers({ 'retry-after': retryAfter }),
  );

describe(toModelError.name, () => {
  it.each([
    ['a few seconds', '3', 3],
    ['a day in seconds', '86400', 60],
    ['a date a day away', new Date(Date.now() + 86_400_000).toUTCString(), 60],
  ])('passes on a Retry-After of %s capped at 60 s', (_case, header, expected) => {
    expect(toModelError(overload(header))).toMatchObject({ code: 'model_overloaded', retryAfterSeconds: expected });
  });
});
