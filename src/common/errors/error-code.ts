/** Every stable error code a client can see (SPEC §4). */
export type ErrorCode =
  | 'validation_failed'
  | 'invalid_json'
  | 'invalid_cursor'
  | 'unauthorized'
  | 'forbidden'
  | 'route_not_found'
  | 'conversation_not_found'
  | 'turn_not_found'
  | 'approval_not_found'
  | 'method_not_allowed'
  | 'not_acceptable'
  | 'conversation_busy'
  | 'turn_not_running'
  | 'approval_pending'
  | 'approval_not_pending'
  | 'conversation_limit_reached'
  | 'idempotency_key_in_use'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'idempotency_key_reused'
  | 'rate_limited'
  | 'internal_error'
  | 'model_error'
  | 'model_request_too_large'
  | 'model_not_configured'
  | 'model_overloaded'
  | 'database_unavailable'
  | 'auth_unavailable'
  | 'service_shutting_down'
  | 'model_timeout'
  | 'turn_interrupted';

interface ErrorCodeInfo {
  status: number;
  /** Short, human-readable summary of the problem type (RFC 9457 `title`). */
  title: string;
}

/** A `Record` over the union: a code missing here fails to compile. */
const ERROR_CODES: Record<ErrorCode, ErrorCodeInfo> = {
  validation_failed: { status: 400, title: 'Invalid request' },
  invalid_json: { status: 400, title: 'Malformed JSON body' },
  invalid_cursor: { status: 400, title: 'Invalid pagination cursor' },
  unauthorized: { status: 401, title: 'Authentication required' },
  forbidden: { status: 403, title: 'Forbidden' },
  route_not_found: { status: 404, title: 'Route not found' },
  conversation_not_found: { status: 404, title: 'Conversation not found' },
  turn_not_found: { status: 404, title: 'Turn not found' },
  approval_not_found: { status: 404, title: 'Approval not found' },
  method_not_allowed: { status: 405, title: 'Method not allowed' },
  not_acceptable: { status: 406, title: 'Not acceptable' },
  conversation_busy: { status: 409, title: 'Conversation busy' },
  turn_not_running: { status: 409, title: 'Turn not running' },
  approval_pending: { status: 409, title: 'Approval pending' },
  approval_not_pending: { status: 409, title: 'Approval not pending' },
  conversation_limit_reached: { status: 409, title: 'Conversation limit reached' },
  idempotency_key_in_use: { status: 409, title: 'Idempotency key in use' },
  payload_too_large: { status: 413, title: 'Request body too large' },
  unsupported_media_type: { status: 415, title: 'Unsupported media type' },
  idempotency_key_reused: { status: 422, title: 'Idempotency key reused' },
  rate_limited: { status: 429, title: 'Too many requests' },
  internal_error: { status: 500, title: 'Internal server error' },
  turn_interrupted: { status: 500, title: 'Turn interrupted' },
  model_error: { status: 502, title: 'Model request failed' },
  // Not 413: the client's body was fine; what the tools returned (or the stored context) made the request too large.
  model_request_too_large: { status: 502, title: 'Model request too large' },
  model_not_configured: { status: 503, title: 'Model not configured' },
  model_overloaded: { status: 503, title: 'Model overloaded' },
  database_unavailable: { status: 503, title: 'Database unavailable' },
  auth_unavailable: { status: 503, title: 'Token keys unavailable' },
  service_shutting_down: { status: 503, title: 'Service shutting down' },
  model_timeout: { status: 504, title: 'Model timed out' },
};

/** Every code, in declaration order: the `ErrorCode` enum of the OpenAPI document is built from it. */
export const ERROR_CODE_NAMES = Object.keys(ERROR_CODES) as readonly ErrorCode[];

export function isErrorCode(value: string): value is ErrorCode {
  return Object.hasOwn(ERROR_CODES, value);
}

export function describeErrorCode(code: ErrorCode): ErrorCodeInfo {
  return ERROR_CODES[code];
}

/** The code a bare HTTP status stands for, for errors raised below our own code (router, body parser). */
export function codeForStatus(status: number): ErrorCode {
  switch (status) {
    case 400:
      return 'validation_failed';
    case 401:
      return 'unauthorized';
    case 403:
      return 'forbidden';
    case 404:
      return 'route_not_found';
    case 405:
      return 'method_not_allowed';
    case 406:
      return 'not_acceptable';
    case 413:
      return 'payload_too_large';
    case 415:
      return 'unsupported_media_type';
    case 429:
      return 'rate_limited';
    default:
      return status >= 400 && status < 500 ? 'validation_failed' : 'internal_error';
  }
}
