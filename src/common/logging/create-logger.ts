import pino, { type DestinationStream, type Logger } from 'pino';

/**
 * One JSON logger for the process. Requests are logged by Fastify's serializers (method, url,
 * status, request id) — never bodies or headers, so message text and tokens stay out of the log.
 */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      redact: { paths: ['req.headers.authorization', 'headers.authorization'], censor: '[redacted]' },
    },
    destination,
  );
}
