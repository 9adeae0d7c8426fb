import { AppError } from '../errors/app-error';

export type CursorPosition = Record<string, string | number>;

/** The `scope` binds a cursor to its listing, so another conversation's is refused, not misread. */
export function encodeCursor(scope: string, position: CursorPosition): string {
  return Buffer.from(JSON.stringify({ scope, ...position })).toString('base64url');
}

/** `parse` builds a new object of the fields it checked, so nothing a client adds reaches a query. */
export function decodeCursor<T extends object>(
  cursor: string,
  { scope, field }: { scope: string; field: string },
  parse: (fields: Record<string, unknown>) => T | undefined,
): T {
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalidCursor(field);
  }
  if (typeof decoded !== 'object' || decoded === null || Array.isArray(decoded)) throw invalidCursor(field);
  const { scope: cursorScope, ...fields } = decoded as Record<string, unknown>;
  const position = cursorScope === scope ? parse(fields) : undefined;
  if (!position || Object.keys(fields).length !== Object.keys(position).length) throw invalidCursor(field);
  return position;
}

function invalidCursor(field: string): AppError {
  return new AppError('invalid_cursor', `${field} is not a cursor of this listing: pass next_cursor back unchanged.`, {
    errors: [{ field, message: 'malformed cursor or one from another listing' }],
  });
}

/** The exact text form keyset cursors carry (microseconds, UTC), so the database cast cannot fail on its shape. */
const CURSOR_TIMESTAMP = /^(\d{4})-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

/** A real calendar date (2020-02-30 does not round-trip) in 0001..9999 (PostgreSQL refuses year 0000). */
export function isCursorTimestamp(value: unknown): value is string {
  if (typeof value !== 'string') return false;
  const match = CURSOR_TIMESTAMP.exec(value);
  if (!match || Number(match[1]) < 1) return false;
  const milliseconds = `${value.slice(0, 23)}Z`;
  const date = new Date(milliseconds);
  return !Number.isNaN(date.getTime()) && date.toISOString() === milliseconds;
}
