import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Public } from '../common/http/public.decorator';
import { AppError } from '../common/errors/app-error';
import { LifecycleState } from '../common/lifecycle/lifecycle.module';
import { ApiProblemResponses } from '../common/problem/api-problem-responses.decorator';
import { DatabaseHealth } from '../database/database-health';

interface LiveResponse {
  status: 'ok';
}

interface ReadyResponse {
  status: 'ok';
  checks: { database: 'up'; migrations: 'applied' };
}

/** Probes for orchestrators: unauthenticated, and cheap enough to call every few seconds. */
@ApiTags('health')
@ApiProblemResponses(500)
@Controller('health')
export class HealthController {
  constructor(
    private readonly database: DatabaseHealth,
    private readonly lifecycle: LifecycleState,
  ) {}

  @Public()
  @Get('live')
  @ApiOperation({
    operationId: 'getLiveness',
    summary: 'Liveness: the process answers HTTP (it checks no dependency).',
    description: 'Answers 200 while the process serves HTTP; restart the replica when it does not.',
  })
  @ApiOkResponse({
    schema: { type: 'object', required: ['status'], properties: { status: { type: 'string', enum: ['ok'] } } },
  })
  live(): LiveResponse {
    return { status: 'ok' };
  }

  @Public()
  @Get('ready')
  @ApiOperation({
    operationId: 'getReadiness',
    summary: 'Readiness: the database answers, every migration is applied, and the replica is not shutting down.',
    description:
      'Answers 503 while the replica shuts down or cannot serve: take it out of the load balancer meanwhile.',
  })
  @ApiOkResponse({
    schema: {
      type: 'object',
      required: ['status', 'checks'],
      properties: {
        status: { type: 'string', enum: ['ok'] },
        checks: {
          type: 'object',
          required: ['database', 'migrations'],
          properties: {
            database: { type: 'string', enum: ['up'] },
            migrations: { type: 'string', enum: ['applied'] },
          },
        },
      },
    },
  })
  @ApiProblemResponses(503)
  async ready(): Promise<ReadyResponse> {
    if (this.lifecycle.draining) {
      throw new AppError('service_shutting_down', 'This replica is shutting down.', { retryAfterSeconds: 1 });
    }
    const health = await this.database.check();
    if (health.database === 'down') {
      throw new AppError('database_unavailable', 'The database does not answer.');
    }
    if (health.pendingMigrations > 0) {
      throw new AppError('database_unavailable', `${health.pendingMigrations} database migration(s) are not applied.`);
    }
    return { status: 'ok', checks: { database: 'up', migrations: 'applied' } };
  }
}
