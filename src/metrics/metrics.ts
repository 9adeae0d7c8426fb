import { Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';

/** Buckets from 5 ms to 2 min: a chat turn spans database round trips to long model generations. */
const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

/** One registry per application (so test apps don't collide); no I/O on the request path. */
@Injectable()
export class Metrics {
  readonly registry = new Registry();

  readonly httpRequestDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request latency by route and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });

  readonly turnDuration = new Histogram({
    name: 'chat_turn_duration_seconds',
    help: 'Chat turn latency (model calls and tools included), by outcome',
    labelNames: ['outcome'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });

  readonly modelRequestDuration = new Histogram({
    name: 'model_request_duration_seconds',
    help: 'Latency of one Messages API call (retries included), by outcome',
    labelNames: ['outcome'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });

  readonly toolCallDuration = new Histogram({
    name: 'tool_call_duration_seconds',
    help: 'Latency of one MCP tool call, by server and whether it failed',
    labelNames: ['server', 'is_error'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });

  readonly databaseDuration = new Histogram({
    name: 'database_operation_duration_seconds',
    help: 'Latency of the database steps of a chat turn',
    labelNames: ['operation'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });

  readonly tokens = new Counter({
    name: 'model_tokens_total',
    help: 'Tokens reported by the model, by kind',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });

  /** SPEC §5.3: calls the user was asked about, and how each ended. */
  readonly approvals = new Counter({
    name: 'chat_approvals_total',
    help: 'Tool calls that waited for the user, by outcome (requested, approved, denied, expired)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  readonly errors = new Counter({
    name: 'http_errors_total',
    help: 'Error responses (problem+json) by problem code',
    labelNames: ['code'] as const,
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  /** Observes one database step of a turn, failed or not. */
  async timeDatabase<T>(operation: string, work: () => Promise<T>): Promise<T> {
    const stopTimer = this.databaseDuration.startTimer({ operation });
    try {
      return await work();
    } finally {
      stopTimer();
    }
  }
}
