import { decodeCursor, encodeCursor, isCursorTimestamp } from './cursor';

describe('keyset cursors', () => {
  it('decodes what it encoded, for the same listing only', () => {
    const cursor = encodeCursor('tasks:all', { id: 7 });
    const parse = ({ id }: Record<string, unknown>) => (typeof id === 'number' ? { id } : undefined);

    expect(decodeCursor(cursor, { scope: 'tasks:all', field: 'cursor' }, parse)).toEqual({ id: 7 });
    expect(() => decodeCursor(cursor, { scope: 'tasks:pending', field: 'cursor' }, parse)).toThrow(
      expect.objectContaining({ code: 'invalid_cursor' }),
    );
  });

  it.each([
    ['the exact form, in range', '2030-01-02T03:04:05.123456Z', true],
    ['the first representable year', '0001-01-01T00:00:00.000000Z', true],
    ['the last representable instant', '9999-12-31T23:59:59.999999Z', true],
    ['year 0000, which PostgreSQL refuses', '0000-01-01T00:00:00.000000Z', false],
    ['a date that does not exist', '2020-02-30T00:00:00.000000Z', false],
    ['milliseconds instead of microseconds', '2030-01-02T03:04:05.123Z', false],
    ['an expanded year', '+010000-01-01T00:00:00.000000Z', false],
  ])('judges %s (%s) a cursor timestamp: %s', (_case, value, expected) => {
    expect(isCursorTimestamp(value)).toBe(expected);
  });
});
