import { Controller, Get, Header } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Public } from '../auth/public.decorator';
import { ApiProblemResponses } from '../common/problem/api-problem-responses.decorator';
import { Metrics } from './metrics.service';

@ApiTags('health')
@Controller('metrics')
export class MetricsController {
  constructor(private readonly metrics: Metrics) {}

  /** Unauthenticated like the probes: restrict it at the proxy if it must not be public. */
  @Public()
  @Get()
  @Header('content-type', 'text/plain; version=0.0.4; charset=utf-8')
  @ApiOperation({
    operationId: 'getMetrics',
    summary: 'Prometheus metrics: turn, model, tool and database latency; tokens; errors by code',
    description:
      'Prometheus text exposition format, for a scraper. No token: restrict it at the proxy where it must not be public.',
  })
  @ApiOkResponse({ content: { 'text/plain': { schema: { type: 'string' } } } })
  @ApiProblemResponses(500)
  scrape(): Promise<string> {
    return this.metrics.registry.metrics();
  }
}
