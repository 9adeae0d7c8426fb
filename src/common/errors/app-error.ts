import type { ErrorCode } from './error-code';

export interface AppErrorOptions {
  /** Seconds after which a retry may succeed; becomes `Retry-After`. */
  retryAfterSeconds?: number;
  /** Extra members of the problem object, e.g. `conversation_id` of a failed turn. */
  extensions?: Record<string, unknown>;
  errors?: { field: string; message: string }[];
  cause?: unknown;
}

/** Services throw a stable code and a client-fit message; the problem filter picks the status. */
export class AppError extends Error {
  readonly retryAfterSeconds?: number;
  readonly extensions?: Record<string, unknown>;
  readonly errors?: { field: string; message: string }[];

  constructor(
    readonly code: ErrorCode,
    readonly detail: string,
    options: AppErrorOptions = {},
  ) {
    super(detail, { cause: options.cause });
    this.name = 'AppError';
    this.retryAfterSeconds = options.retryAfterSeconds;
    this.extensions = options.extensions;
    this.errors = options.errors;
  }
}
