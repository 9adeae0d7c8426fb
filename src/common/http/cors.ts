import type { FastifyCorsOptions } from '@fastify/cors';

/** What a browser client sends beyond the CORS-safelisted headers (the MCP ones for browser MCP clients). */
const ALLOWED_REQUEST_HEADERS = [
  'authorization',
  'content-type',
  'idempotency-key',
  'last-event-id',
  'x-request-id',
  'mcp-session-id',
  'mcp-protocol-version',
];
/** Response headers a browser script may read: correlation, back-off and quota. */
const EXPOSED_RESPONSE_HEADERS = ['x-request-id', 'retry-after', 'ratelimit', 'ratelimit-policy', 'mcp-session-id'];
const PREFLIGHT_CACHE_SECONDS = 600;

/** SPEC §10: only the configured origins; the API authenticates with bearer tokens, never cookies. */
export function corsOptionsFor(origins: string[]): FastifyCorsOptions {
  return {
    origin: origins,
    methods: ['GET', 'POST', 'PATCH', 'DELETE'],
    allowedHeaders: ALLOWED_REQUEST_HEADERS,
    exposedHeaders: EXPOSED_RESPONSE_HEADERS,
    credentials: false,
    maxAge: PREFLIGHT_CACHE_SECONDS,
  };
}
