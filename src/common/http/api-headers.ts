import type { HeaderObject, HeadersObject } from '@nestjs/swagger';
import { REQUEST_ID_HEADER } from './request-id';

/** Response headers under `components.headers`; responses refer to them with {@link apiHeaders}. */
export const API_RESPONSE_HEADERS = {
  [REQUEST_ID_HEADER]: {
    description:
      'The id of this request (the caller’s own `x-request-id` when it is plain and short); the server log uses it.',
    schema: { type: 'string', maxLength: 128 },
  },
  'Access-Control-Allow-Origin': {
    description: 'Sent when the request’s `Origin` is one of `CORS_ORIGINS` (SPEC §10); absent otherwise.',
    schema: { type: 'string', maxLength: 2048 },
  },
  'Retry-After': {
    description: 'Seconds to wait before retrying (RFC 9110 §10.2.3); sent when the wait is known.',
    schema: { type: 'integer', format: 'int32', minimum: 0 },
  },
  RateLimit: {
    description:
      'What is left of the caller’s chat budget (IETF draft `RateLimit` header: `"chat";r=<remaining>;t=<seconds to reset>`). ' +
      'Sent on every chat request that passed authentication, refused ones included.',
    schema: { type: 'string', maxLength: 256 },
  },
  'RateLimit-Policy': {
    description: 'The chat budget per user (`"chat";q=<requests>;w=<window seconds>`).',
    schema: { type: 'string', maxLength: 256 },
  },
} satisfies Record<string, HeaderObject>;

export type ApiResponseHeader = keyof typeof API_RESPONSE_HEADERS;

/** `headers` of a response that sends these headers: references to their components. */
export function apiHeaders(...names: ApiResponseHeader[]): HeadersObject {
  return Object.fromEntries(names.map((name) => [name, { $ref: `#/components/headers/${name}` }]));
}
