import { Logger } from '@nestjs/common';
import pino from 'pino';
import { Writable } from 'node:stream';
import { PinoNestLogger } from './pino-nest-logger';

function capturedLogger(): { lines: Record<string, unknown>[]; logger: Logger } {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  Logger.overrideLogger(new PinoNestLogger(pino({ level: 'trace' }, destination)));
  return { lines, logger: new Logger('ChatService') };
}

describe(PinoNestLogger.name, () => {
  it('logs pino-style (fields, message) calls with the error and its stack', () => {
    const { lines, logger } = capturedLogger();

    logger.error({ err: new Error('connection terminated') }, 'could not record a failed turn');
    logger.warn({ err: new Error('lease row gone') }, 'could not renew a turn lease');

    expect(lines).toEqual([
      expect.objectContaining({
        level: 50,
        context: 'ChatService',
        msg: 'could not record a failed turn',
        err: expect.objectContaining({
          message: 'connection terminated',
          stack: expect.stringContaining('connection terminated'),
        }),
      }),
      expect.objectContaining({
        level: 40,
        context: 'ChatService',
        msg: 'could not renew a turn lease',
        err: expect.objectContaining({ message: 'lease row gone' }),
      }),
    ]);
  });

  it('logs Nest-style calls: a message with a stack, a bare error, a plain message', () => {
    const { lines, logger } = capturedLogger();

    logger.error('boot failed', 'Error: boot failed\n    at somewhere');
    logger.error(new Error('parser blew up'));
    logger.log('listening');

    expect(lines).toEqual([
      expect.objectContaining({ level: 50, context: 'ChatService', msg: 'boot failed', trace: expect.any(String) }),
      expect.objectContaining({
        level: 50,
        msg: 'parser blew up',
        err: expect.objectContaining({ stack: expect.stringContaining('parser blew up') }),
      }),
      expect.objectContaining({ level: 30, context: 'ChatService', msg: 'listening' }),
    ]);
  });
});
