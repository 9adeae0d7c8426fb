import { AppError } from '../errors/app-error';

export type CursorPosition = Record<string, string | number>;

/**
 * Opaque keyset cursors: base64url JSON that clients pass back unchanged. The `scope` binds a
 * cursor to the listing it came from, so one from another conversation is rejected, not misread.
 */
export function encodeCursor(scope: string, position: CursorPosition): string {
  return Buffer.from(JSON.stringify({ scope, ...position })).toString('base64url');
}

/**
 * Decodes a cursor into exactly the fields `parse` accepts. `parse` returns a new object built from
 * the fields it checked (or undefined), so nothing a client adds to a cursor reaches a query.
 */
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
