import { resolve } from 'node:path';
import { z } from 'zod';

/** A current Claude model: older ids make the SDK print a deprecation warning on every call. */
export const DEFAULT_ANTHROPIC_MODEL = 'claude-sonnet-5-5';

const KIB = 1024;
const MIB = 1024 * KIB;

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const DURATION_UNITS_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
/** `250ms`, `30s`, `10m`, `1h`, or plain milliseconds. */
const duration = (minMs: number, maxMs: number) =>
  z
    .string()
    .regex(/^\d+(ms|s|m|h)?$/, 'must be a duration such as 500ms, 30s, 10m, 1h (or milliseconds)')
    .transform((value) => {
      const [, amount, unit = 'ms'] = /^(\d+)(ms|s|m|h)?$/.exec(value) ?? [];
      return Number(amount) * DURATION_UNITS_MS[unit];
    })
    .pipe(z.number().min(minMs, `must be at least ${minMs} ms`).max(maxMs, `must be at most ${maxMs} ms`));
const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((value) => value === 'true' || value === '1' || value === 'yes');
const url = z.url();
const optionalString = z
  .string()
  .optional()
  .transform((value) => (value === undefined || value.trim() === '' ? undefined : value));

const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: int(0, 65535).default(3000),
  HOST: z.string().min(1).default('127.0.0.1'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  DATABASE_URL: optionalString.pipe(
    z
      .string()
      .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL')
      .optional(),
  ),
  DATABASE_DIRECT_URL: optionalString.pipe(
    z
      .string()
      .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL')
      .optional(),
  ),
  DATABASE_POOLER: z.enum(['auto', 'pgbouncer', 'none']).default('auto'),
  DATA_DIR: z.string().min(1).default('./data'),
  DB_POOL_SIZE: int(1, 100).default(10),
  DB_MIGRATE_ON_BOOT: bool.default(true),
  JWT_SECRET: optionalString,
  JWT_JWKS_URL: optionalString.pipe(url.optional()),
  JWT_ISSUER: optionalString,
  JWT_AUDIENCE: optionalString,
  JWT_CLOCK_TOLERANCE_S: int(0, 30).default(5),
  JWT_JWKS_MIN_REFETCH_S: int(1, 3600).default(30),
  ANTHROPIC_API_KEY: optionalString,
  ANTHROPIC_BASE_URL: optionalString.pipe(url.optional()),
  ANTHROPIC_MODEL: z.string().min(1).default(DEFAULT_ANTHROPIC_MODEL),
  ANTHROPIC_MAX_TOKENS: int(1, 128000).default(4096),
  ANTHROPIC_TIMEOUT_MS: int(1000, 600000).default(60000),
  ANTHROPIC_MAX_RETRIES: int(0, 10).default(2),
  MCP_CONFIG: optionalString,
  MCP_BOOT_WAIT_MS: int(0, 600000).default(10000),
  REDIS_URL: optionalString.pipe(
    z
      .string()
      .regex(/^rediss?:\/\//, 'must be a redis:// URL')
      .optional(),
  ),
  CHAT_MAX_TOOL_ROUNDS: int(1, 50).default(8),
  CHAT_TOOL_TIMEOUT_MS: int(100, 600000).default(30000),
  CHAT_TURN_TIMEOUT_MS: int(1000, 3600000).default(120000),
  CHAT_CONTEXT_TOKEN_BUDGET: int(1000, 1000000).default(50000),
  CHAT_BUSY_WAIT_MS: int(0, 120000).default(10000),
  CHAT_RATE_LIMIT_PER_MINUTE: int(1, 100000).default(20),
  CHAT_MAX_CONVERSATIONS_PER_USER: int(1, 10_000_000).default(10_000),
  MCP_RATE_LIMIT_PER_MINUTE: int(1, 100000).default(120),
  TASKS_MAX_PER_USER: int(1, 10_000_000).default(10_000),
  CHAT_LEASE_TTL_MS: int(1000, 600000).default(30000),
  CHAT_SSE_KEEPALIVE_MS: int(100, 600000).default(15000),
  CHAT_SSE_RETRY_MS: int(0, 600000).default(3000),
  CHAT_TURN_EVENTS_TTL: duration(100, 30 * 24 * 3_600_000).default(3_600_000),
  CHAT_APPROVAL_TTL: duration(100, 30 * 24 * 3_600_000).default(24 * 3_600_000),
  CHAT_TURN_EVENTS_POLL_MS: int(20, 60000).default(250),
  CHAT_TEXT_DELTA_COALESCE_MS: int(0, 1000).default(20),
  CHAT_SSE_MAX_BUFFER_BYTES: int(16 * KIB, 64 * MIB).default(MIB),
  CHAT_MAX_TOOL_CALLS_PER_ROUND: int(1, 1000).default(16),
  CHAT_TOOL_RESULT_MAX_BYTES: int(KIB, 32 * MIB).default(256 * KIB),
  // 32 MB is the Messages API's own limit; 4 MiB is already past the largest context window (~1M tokens).
  CHAT_MODEL_REQUEST_MAX_BYTES: int(64 * KIB, 32 * MIB).default(4 * MIB),
  IDEMPOTENCY_TTL_HOURS: int(24, 24 * 30).default(24),
  BODY_LIMIT_BYTES: int(1024, 64 * 1024 * 1024).default(256 * 1024),
  SHUTDOWN_GRACE_MS: int(0, 600000).default(30000),
  HTTP_HEADERS_TIMEOUT_MS: int(100, 600000).default(10000),
  HTTP_REQUEST_TIMEOUT_MS: int(100, 600000).default(30000),
  HTTP_CONNECTION_TIMEOUT_MS: int(0, 3600000).default(300000),
  HTTP_MAX_CONNECTIONS: int(0, 1000000).default(10000),
  HTTP_MAX_CONNECTIONS_PER_IP: int(0, 1000000).default(0),
  CORS_ORIGINS: optionalString,
  METRICS_TOKEN: optionalString.pipe(z.string().min(16, 'must be at least 16 characters').optional()),
});

/** The validated configuration: the only reader of process.env is {@link loadConfig}. */
export class AppConfig {
  readonly nodeEnv!: 'development' | 'production' | 'test';
  readonly port!: number;
  readonly host!: string;
  readonly logLevel!: string;
  readonly databaseUrl?: string;
  /** The server itself, past the pooler: for migrations (session advisory lock) and LISTEN. */
  readonly databaseDirectUrl?: string;
  readonly dataDir!: string;
  /** `pooler`: a transaction-mode pooler (PgBouncer) is in front, so no session state may be relied on. */
  readonly db!: { poolSize: number; migrateOnBoot: boolean; pooler: DatabasePooler };
  readonly jwt!: {
    /** JWT_SECRET as set: auth's `JwtSecret` applies the secret policy and supplies the development secret. */
    secret?: string;
    jwksUrl?: string;
    issuer?: string;
    audience?: string;
    clockToleranceSeconds: number;
    /** A JWKS is fetched at most once per this interval, however many unknown kids arrive. */
    jwksMinRefetchSeconds: number;
  };
  readonly anthropic!: {
    apiKey?: string;
    baseUrl?: string;
    model: string;
    maxTokens: number;
    timeoutMs: number;
    maxRetries: number;
  };
  readonly mcpConfigPath?: string;
  /** How long boot waits for the MCP servers; slower ones go on connecting in the background. */
  readonly mcpBootWaitMs!: number;
  readonly redisUrl?: string;
  /** Requests per user per minute on `/mcp`, a budget apart from chat's, in the same store. */
  readonly mcpRateLimitPerMinute!: number;
  /** add_task past this many of the user's tasks is a tool error. */
  readonly tasks!: { maxPerUser: number };
  readonly chat!: {
    busyWaitMs: number;
    rateLimitPerMinute: number;
    /** A new conversation past this many of the user's own is refused (409 `conversation_limit_reached`). */
    maxConversationsPerUser: number;
    /** A turn's lease on its conversation, renewed while it runs; a dead replica's expires after this. */
    leaseTtlMs: number;
    sseKeepaliveMs: number;
    /** Bytes an SSE response may hold unsent before its client, which is not reading, is disconnected. */
    sseMaxBufferBytes: number;
    /** The `retry:` each stream starts with: how long an EventSource client waits before it reconnects. */
    sseRetryMs: number;
    idempotencyTtlHours: number;
    /** How long a turn's events are kept after it ended; later, a terminal event is rebuilt from the messages. */
    turnEventsTtlMs: number;
    /** How long a paused turn's approvals wait for the user's decision; then they count as denied. */
    approvalTtlMs: number;
    /** Without LISTEN (PgBouncer and no DATABASE_DIRECT_URL), how often other replicas' turns are polled. */
    turnEventsPollMs: number;
    /** Text deltas closer together than this are merged into one event: bounds events (and writes) per turn. */
    textDeltaCoalesceMs: number;
  };
  readonly agent!: {
    maxToolRounds: number;
    /** Tool calls of one model round that run; the rest get a tool error. */
    maxToolCallsPerRound: number;
    toolTimeoutMs: number;
    /** Bytes of one tool result that are kept, for the model and in storage; the rest is cut. */
    toolResultMaxBytes: number;
    /** A model request larger than this, serialized, is not sent: the turn fails. */
    modelRequestMaxBytes: number;
    contextTokenBudget: number;
    turnTimeoutMs: number;
  };
  readonly bodyLimitBytes!: number;
  readonly shutdownGraceMs!: number;
  readonly http!: {
    /** Receiving the headers of a request (slow-header clients are cut after this). */
    headersTimeoutMs: number;
    /** Receiving a whole request, body included; the response is not bounded by it. */
    requestTimeoutMs: number;
    /** A socket with no traffic either way is closed after this; 0 = never. */
    connectionTimeoutMs: number;
    /** 0 = unbounded. */
    maxConnections: number;
    maxConnectionsPerIp: number;
  };
  /** Origins a browser may call the API from; empty = CORS is off. */
  readonly corsOrigins!: string[];
  /** When set, `/metrics` wants it as a bearer token. */
  readonly metricsToken?: string;

  constructor(values: AppConfig) {
    Object.assign(this, values);
  }
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Every bad key is reported together, so an operator fixes them in one pass. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`));
  }
  const e = parsed.data;

  return new AppConfig({
    nodeEnv: e.NODE_ENV,
    port: e.PORT,
    host: e.HOST,
    logLevel: e.LOG_LEVEL,
    databaseUrl: e.DATABASE_URL,
    databaseDirectUrl: e.DATABASE_DIRECT_URL,
    dataDir: resolve(e.DATA_DIR),
    db: {
      poolSize: e.DB_POOL_SIZE,
      migrateOnBoot: e.DB_MIGRATE_ON_BOOT,
      pooler: resolvePooler(e.DATABASE_POOLER, e.DATABASE_URL),
    },
    jwt: {
      secret: e.JWT_SECRET,
      jwksUrl: e.JWT_JWKS_URL,
      issuer: e.JWT_ISSUER,
      audience: e.JWT_AUDIENCE,
      clockToleranceSeconds: e.JWT_CLOCK_TOLERANCE_S,
      jwksMinRefetchSeconds: e.JWT_JWKS_MIN_REFETCH_S,
    },
    anthropic: {
      apiKey: e.ANTHROPIC_API_KEY,
      baseUrl: e.ANTHROPIC_BASE_URL,
      model: e.ANTHROPIC_MODEL,
      maxTokens: e.ANTHROPIC_MAX_TOKENS,
      timeoutMs: e.ANTHROPIC_TIMEOUT_MS,
      maxRetries: e.ANTHROPIC_MAX_RETRIES,
    },
    mcpConfigPath: e.MCP_CONFIG,
    mcpBootWaitMs: e.MCP_BOOT_WAIT_MS,
    redisUrl: e.REDIS_URL,
    mcpRateLimitPerMinute: e.MCP_RATE_LIMIT_PER_MINUTE,
    tasks: { maxPerUser: e.TASKS_MAX_PER_USER },
    chat: {
      busyWaitMs: e.CHAT_BUSY_WAIT_MS,
      rateLimitPerMinute: e.CHAT_RATE_LIMIT_PER_MINUTE,
      maxConversationsPerUser: e.CHAT_MAX_CONVERSATIONS_PER_USER,
      leaseTtlMs: e.CHAT_LEASE_TTL_MS,
      sseKeepaliveMs: e.CHAT_SSE_KEEPALIVE_MS,
      sseMaxBufferBytes: e.CHAT_SSE_MAX_BUFFER_BYTES,
      sseRetryMs: e.CHAT_SSE_RETRY_MS,
      idempotencyTtlHours: e.IDEMPOTENCY_TTL_HOURS,
      turnEventsTtlMs: e.CHAT_TURN_EVENTS_TTL,
      approvalTtlMs: e.CHAT_APPROVAL_TTL,
      turnEventsPollMs: e.CHAT_TURN_EVENTS_POLL_MS,
      textDeltaCoalesceMs: e.CHAT_TEXT_DELTA_COALESCE_MS,
    },
    agent: {
      maxToolRounds: e.CHAT_MAX_TOOL_ROUNDS,
      maxToolCallsPerRound: e.CHAT_MAX_TOOL_CALLS_PER_ROUND,
      toolTimeoutMs: e.CHAT_TOOL_TIMEOUT_MS,
      toolResultMaxBytes: e.CHAT_TOOL_RESULT_MAX_BYTES,
      modelRequestMaxBytes: e.CHAT_MODEL_REQUEST_MAX_BYTES,
      contextTokenBudget: e.CHAT_CONTEXT_TOKEN_BUDGET,
      turnTimeoutMs: e.CHAT_TURN_TIMEOUT_MS,
    },
    bodyLimitBytes: e.BODY_LIMIT_BYTES,
    shutdownGraceMs: e.SHUTDOWN_GRACE_MS,
    http: resolveHttpLimits(e),
    corsOrigins: parseCorsOrigins(e.CORS_ORIGINS),
    metricsToken: e.METRICS_TOKEN,
  });
}

type ParsedEnv = z.infer<typeof envSchema>;

export type DatabasePooler = 'pgbouncer' | 'none';
/** PgBouncer's default port; a PostgreSQL server listening there is rare enough to guess from it. */
const PGBOUNCER_DEFAULT_PORT = '6432';

/** `auto`: nothing sent through a pooler tells it apart, so the port is the sign; a wrong `none` is still safe. */
export function resolvePooler(setting: 'auto' | DatabasePooler, databaseUrl: string | undefined): DatabasePooler {
  if (setting !== 'auto') return setting;
  if (!databaseUrl) return 'none';
  return new URL(databaseUrl).port === PGBOUNCER_DEFAULT_PORT ? 'pgbouncer' : 'none';
}

function resolveHttpLimits(e: ParsedEnv): AppConfig['http'] {
  const problems: string[] = [];
  if (e.HTTP_HEADERS_TIMEOUT_MS > e.HTTP_REQUEST_TIMEOUT_MS) {
    problems.push('HTTP_HEADERS_TIMEOUT_MS: must not exceed HTTP_REQUEST_TIMEOUT_MS');
  }
  // A JSON (non-streamed) turn sends nothing until it ends: an idle cut shorter than a turn would drop it.
  const longestSilentResponseMs = e.CHAT_BUSY_WAIT_MS + e.CHAT_TURN_TIMEOUT_MS;
  if (e.HTTP_CONNECTION_TIMEOUT_MS !== 0 && e.HTTP_CONNECTION_TIMEOUT_MS <= longestSilentResponseMs) {
    problems.push(
      `HTTP_CONNECTION_TIMEOUT_MS: must be 0 or more than CHAT_BUSY_WAIT_MS + CHAT_TURN_TIMEOUT_MS (${longestSilentResponseMs})`,
    );
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return {
    headersTimeoutMs: e.HTTP_HEADERS_TIMEOUT_MS,
    requestTimeoutMs: e.HTTP_REQUEST_TIMEOUT_MS,
    connectionTimeoutMs: e.HTTP_CONNECTION_TIMEOUT_MS,
    maxConnections: e.HTTP_MAX_CONNECTIONS,
    maxConnectionsPerIp: e.HTTP_MAX_CONNECTIONS_PER_IP,
  };
}

/** Exact origins only (`https://app.example.com`): a wildcard or a path is a configuration mistake here. */
export function parseCorsOrigins(value: string | undefined): string[] {
  if (value === undefined) return [];
  const entries = value.split(',').map((entry) => entry.trim());
  const bad = entries.filter((entry) => !isOrigin(entry));
  if (bad.length > 0) {
    throw new ConfigError([
      `CORS_ORIGINS: not an origin (scheme://host[:port], no path or wildcard): ${bad.map((entry) => JSON.stringify(entry)).join(', ')}`,
    ]);
  }
  return [...new Set(entries)];
}

function isOrigin(entry: string): boolean {
  if (!URL.canParse(entry)) return false;
  const parsed = new URL(entry);
  return (parsed.protocol === 'http:' || parsed.protocol === 'https:') && parsed.origin === entry;
}
