import { AppError } from '../errors/app-error';

/**
 * Opaque keyset cursors: base64url JSON that clients pass back unchanged. The `scope` binds a
 * cursor to the listing it came from, so one from another conversation is rejected, not misread.
 */
export function encodeCursor(scope: string, position: Record<string, string | number>): string {
  return Buffer.from(JSON.stringify({ scope, ...position })).toString('base64url');
}

export function decodeCursor<T extends Record<string, string | number>>(
  cursor: string,
  { scope, field }: { scope: string; field: string },
  isPosition: (value: Record<string, unknown>) => value is T & Record<string, unknown>,
): T {
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalidCursor(field);
  }
  if (typeof decoded !== 'object' || decoded === null) throw invalidCursor(field);
  const { scope: cursorScope, ...position } = decoded as Record<string, unknown>;
  if (cursorScope !== scope || !isPosition(position)) throw invalidCursor(field);
  return position;
}

function invalidCursor(field: string): AppError {
  return new AppError('invalid_cursor', `${field} is not a cursor of this listing: pass next_cursor back unchanged.`, {
    errors: [{ field, message: 'malformed cursor or one from another listing' }],
  });
}
