import type { FastifyInstance } from 'fastify';
import { AppError } from '../errors/app-error';

const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true });

/** Strict UTF-8 (Fastify's lenient decode would store U+FFFD), then parsed as Fastify does, proto checks too. */
export function useStrictUtf8Json(fastify: FastifyInstance): void {
  const parseJson = fastify.getDefaultJsonParser('error', 'error');
  fastify.removeContentTypeParser('application/json');
  fastify.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body: Buffer, done) => {
    let text: string;
    try {
      text = STRICT_UTF8.decode(body);
    } catch {
      done(new AppError('invalid_json', 'The request body is not valid UTF-8.'), undefined);
      return;
    }
    void parseJson(request, text, done);
  });
}
