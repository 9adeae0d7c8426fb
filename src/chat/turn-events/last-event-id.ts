import { AppError } from '../../common/errors/app-error';

/** Event ids are int4 in the log. */
export const MAX_EVENT_ID = 2_147_483_647;

/** The `Last-Event-ID` an EventSource client sends when it reconnects: the id of the last event it has. */
export function parseLastEventId(header: string | string[] | undefined): number | undefined {
  if (header === undefined) return undefined;
  const value = Array.isArray(header) ? header[header.length - 1] : header;
  const trimmed = value.trim();
  if (trimmed === '') return undefined;
  if (!/^\d{1,10}$/.test(trimmed) || Number(trimmed) > MAX_EVENT_ID) {
    throw new AppError('validation_failed', 'Last-Event-ID must be the id of an event of this stream.', {
      errors: [{ field: 'Last-Event-ID', message: `must be an integer from 0 to ${MAX_EVENT_ID}` }],
    });
  }
  return Number(trimmed);
}
