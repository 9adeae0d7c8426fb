import { AppError } from '../../common/errors/app-error';
import { describeErrorCode } from '../../common/errors/error-code';
import { MAX_EVENT_ID, parseLastEventId } from './last-event-id';

function problemOf(header: string | string[]) {
  try {
    parseLastEventId(header);
  } catch (error) {
    if (!(error instanceof AppError)) throw error;
    return { status: describeErrorCode(error.code).status, code: error.code, errors: error.errors };
  }
  throw new Error(`expected ${JSON.stringify(header)} to be refused`);
}

describe(parseLastEventId.name, () => {
  it.each([
    ['0', 0],
    ['7', 7],
    [' 42 ', 42],
    [String(MAX_EVENT_ID), MAX_EVENT_ID],
  ])('reads %j as the id %d', (header, id) => {
    expect(parseLastEventId(header)).toBe(id);
  });

  it.each([undefined, '', '   '])('reads %j as no id: the stream starts from its first event', (header) => {
    expect(parseLastEventId(header)).toBeUndefined();
  });

  it('takes the last of repeated headers', () => {
    expect(parseLastEventId(['3', '9'])).toBe(9);
    expect(parseLastEventId(['not-an-id', '4'])).toBe(4);
    expect(problemOf(['4', 'not-an-id']).code).toBe('validation_failed');
  });

  it.each(['abc', '-1', '+1', '1.5', '1e3', '0x10', '1 2', String(MAX_EVENT_ID + 1), '99999999999'])(
    'answers 400 validation_failed naming Last-Event-ID for %j',
    (header) => {
      expect(problemOf(header)).toEqual({
        status: 400,
        code: 'validation_failed',
        errors: [{ field: 'Last-Event-ID', message: `must be an integer from 0 to ${MAX_EVENT_ID}` }],
      });
    },
  );
});
