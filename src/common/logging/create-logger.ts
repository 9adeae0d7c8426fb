import pino, { type DestinationStream, type Logger } from 'pino';
import { redactQueryValues } from '../errors/database-errors';

const serializeError = (error: unknown): unknown =>
  redactQueryValues(error instanceof Error ? pino.stdSerializers.err(error) : error);

/**
 * One JSON logger for the process. Requests are logged by Fastify's serializers (method, url,
 * status, request id) — never bodies or headers, so message text and tokens stay out of the log;
 * errors without the values of a failed query (see redactQueryValues).
 */
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
