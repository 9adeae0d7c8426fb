import pino, { type DestinationStream, type Logger } from 'pino';
import { redactQueryValues } from '../errors/database-errors';

const serializeError = (error: unknown): unknown =>
  redactQueryValues(error instanceof Error ? pino.stdSerializers.err(error) : error);

/** Never bodies or headers (message text, tokens); errors without a failed query's values (redactQueryValues). */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      redact: { paths: ['req.headers.authorization', 'headers.authorization'], censor: '[redacted]' },
      serializers: { err: serializeError, cause: serializeError },
    },
    destination,
  );
}
