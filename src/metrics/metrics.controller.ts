import { Controller, Get, Header, UseGuards } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Public } from '../common/http/public.decorator';
import { ApiProblemResponses } from '../common/problem/api-problem-responses.decorator';
import { MetricsTokenGuard } from './metrics-token.guard';
import { Metrics } from './metrics';

@ApiTags('health')
@Controller('metrics')
export class MetricsController {
  constructor(private readonly metrics: Metrics) {}

  /** Open like the probes unless METRICS_TOKEN is set; then it wants that token as a bearer token. */
  @Public()
  @UseGuards(MetricsTokenGuard)
  @Get()
  @Header('content-type', 'text/plain; version=0.0.4; charset=utf-8')
  @ApiOperation({
    operationId: 'getMetrics',
    summary: 'Prometheus metrics: turn, model, tool and database latency; tokens; errors by code',
    description:
      'Prometheus text exposition format, for a scraper. Public unless `METRICS_TOKEN` is set; then send it as ' +
      '`Authorization: Bearer <METRICS_TOKEN>` (else 401).',
  })
  @ApiOkResponse({ content: { 'text/plain': { schema: { type: 'string' } } } })
  @ApiProblemResponses(401, 500)
  scrape(): Promise<string> {
    return this.metrics.registry.metrics();
  }
}
