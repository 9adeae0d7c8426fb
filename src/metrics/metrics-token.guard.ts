import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { createHash, timingSafeEqual } from 'node:crypto';
import { AppError } from '../common/errors/app-error';
import { AppConfig } from '../config/app-config';

/** With METRICS_TOKEN set, a scrape must present it as a bearer token; without it, /metrics is open. */
@Injectable()
export class MetricsTokenGuard implements CanActivate {
  private readonly expectedDigest?: Buffer;

  constructor(config: AppConfig) {
    if (config.metricsToken) this.expectedDigest = digest(config.metricsToken);
  }

  canActivate(context: ExecutionContext): boolean {
    if (!this.expectedDigest) return true;
    const header = context.switchToHttp().getRequest<FastifyRequest>().headers.authorization ?? '';
    const [scheme, token] = header.split(' ', 2);
    // Digests have one length, so the comparison takes the same time whatever was sent.
    if (scheme?.toLowerCase() === 'bearer' && token && timingSafeEqual(digest(token), this.expectedDigest)) return true;
    throw new AppError('unauthorized', 'Scraping /metrics needs Authorization: Bearer <METRICS_TOKEN>');
  }
}

function digest(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}
