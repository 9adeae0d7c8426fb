import { Writable } from 'node:stream';
import { QueryFailedError } from 'typeorm';
import { createLogger } from '../logging/create-logger';

/** What the process logger writes for `fields`, as one JSON line. */
function logged(fields: Record<string, unknown>): string {
  let line = '';
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      line += chunk.toString();
      done();
    },
  });
  createLogger('info', sink).error(fields, 'request failed');
  return line;
}

describe('logging a failed query', () => {
  const messageText = 'my very private message';
  const violation = () => {
    const driverError = Object.assign(new Error('duplicate key value violates unique constraint "UQ_messages_seq"'), {
      code: '23505',
      detail: `Key (conversation_id, seq, content)=(c1, 2, ${messageText}) already exists.`,
      constraint: 'UQ_messages_seq',
    });
    return new QueryFailedError('INSERT INTO messages (content) VALUES ($1)', [messageText], driverError);
  };

  it('keeps the message text of a constraint violation (its parameters and detail) out of the log', () => {
    const line = logged({ err: violation() });
    expect(line).not.toContain(messageText);
    expect(line).toContain('UQ_messages_seq');
    expect(line).toContain('23505');
  });

  it('redacts it as the cause of another error too', () => {
    const line = logged({ err: new Error('the turn failed', { cause: violation() }), cause: violation() });
    expect(line).not.toContain(messageText);
  });
});
