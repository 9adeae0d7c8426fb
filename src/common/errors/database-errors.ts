/** SQLSTATE classes and driver codes that mean "the database is unreachable", not "the query is wrong". */
const UNAVAILABLE_SQLSTATES = /^(08|57P0[1-3]|53)/;
const UNAVAILABLE_NODE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT']);
// pg-pool's "timeout exceeded when trying to connect" is also a wait for a free pooled connection that timed out.
const UNAVAILABLE_MESSAGES =
  /Connection terminated|connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error/i;

export function isDatabaseUnavailable(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { code, message, driverError } = error as { code?: unknown; message?: unknown; driverError?: unknown };
  if (driverError && isDatabaseUnavailable(driverError)) return true;
  if (typeof code === 'string' && (UNAVAILABLE_SQLSTATES.test(code) || UNAVAILABLE_NODE_CODES.has(code))) return true;
  return typeof message === 'string' && UNAVAILABLE_MESSAGES.test(message);
}

const REDACTED = '[redacted]';

/** Drops `parameters` and PostgreSQL's `detail` (user text) from a serialized error; SQL and SQLSTATE stay. */
export function redactQueryValues(value: unknown, driverError = false): unknown {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return value;
  const fields = value as Record<string, unknown>;
  const fromDatabase =
    driverError || 'driverError' in fields || 'query' in fields || ('severity' in fields && 'code' in fields);
  const copy: Record<string, unknown> = { ...fields };
  if (fromDatabase) {
    if (Array.isArray(fields.parameters)) copy.parameters = `${REDACTED} ${fields.parameters.length} parameter(s)`;
    if (typeof fields.detail === 'string') copy.detail = REDACTED;
  }
  if ('driverError' in fields) copy.driverError = redactQueryValues(fields.driverError, true);
  if ('cause' in fields) copy.cause = redactQueryValues(fields.cause);
  return copy;
}
