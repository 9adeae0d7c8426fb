import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';

/** A current Claude model: older ids make the SDK print a deprecation warning on every call. */
export const DEFAULT_ANTHROPIC_MODEL = 'claude-sonnet-5-5';
const DEV_SECRET_FILE = 'jwt-secret';
const MIN_PRODUCTION_SECRET_LENGTH = 32;
const PLACEHOLDER_SECRETS = /^(change[-_ ]?me|changeit|secret|placeholder|your[-_ ]?secret.*|test|dev|xxx+|\.\.\.)$/i;

const KIB = 1024;
const MIB = 1024 * KIB;

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
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
  DATA_DIR: z.string().min(1).default('./data'),
  DB_POOL_SIZE: int(1, 100).default(10),
  DB_MIGRATE_ON_BOOT: bool.default(true),
  JWT_SECRET: optionalString,
  JWT_JWKS_URL: optionalString.pipe(url.optional()),
  JWT_ISSUER: optionalString,
  JWT_AUDIENCE: optionalString,
  JWT_CLOCK_TOLERANCE_S: int(0, 30).default(5),
  ANTHROPIC_API_KEY: optionalString,
  ANTHROPIC_BASE_URL: optionalString.pipe(url.optional()),
  ANTHROPIC_MODEL: z.string().min(1).default(DEFAULT_ANTHROPIC_MODEL),
  ANTHROPIC_MAX_TOKENS: int(1, 128000).default(4096),
  ANTHROPIC_TIMEOUT_MS: int(1000, 600000).default(60000),
  ANTHROPIC_MAX_RETRIES: int(0, 10).default(2),
  MCP_CONFIG: optionalString,
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
  CHAT_LEASE_TTL_MS: int(1000, 600000).default(30000),
  CHAT_SSE_KEEPALIVE_MS: int(100, 600000).default(15000),
  CHAT_SSE_MAX_BUFFER_BYTES: int(16 * KIB, 64 * MIB).default(MIB),
  CHAT_MAX_TOOL_CALLS_PER_ROUND: int(1, 1000).default(16),
  CHAT_TOOL_RESULT_MAX_BYTES: int(KIB, 32 * MIB).default(256 * KIB),
  // 32 MB is the Messages API's own limit; 4 MiB is already past the largest context window (~1M tokens).
  CHAT_MODEL_REQUEST_MAX_BYTES: int(64 * KIB, 32 * MIB).default(4 * MIB),
  IDEMPOTENCY_TTL_HOURS: int(24, 24 * 30).default(24),
  BODY_LIMIT_BYTES: int(1024, 64 * 1024 * 1024).default(256 * 1024),
  SHUTDOWN_GRACE_MS: int(0, 600000).default(30000),
});

/** The validated configuration: the only reader of process.env is {@link loadConfig}. */
export class AppConfig {
  readonly nodeEnv!: 'development' | 'production' | 'test';
  readonly port!: number;
  readonly host!: string;
  readonly logLevel!: string;
  readonly databaseUrl?: string;
  readonly dataDir!: string;
  readonly db!: { poolSize: number; migrateOnBoot: boolean };
  readonly jwt!: {
    secret?: string;
    jwksUrl?: string;
    issuer?: string;
    audience?: string;
    clockToleranceSeconds: number;
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
  readonly redisUrl?: string;
  readonly chat!: {
    maxToolRounds: number;
    toolTimeoutMs: number;
    turnTimeoutMs: number;
    contextTokenBudget: number;
    busyWaitMs: number;
    rateLimitPerMinute: number;
    /** A turn's lease on its conversation, renewed while it runs; a dead replica's expires after this. */
    leaseTtlMs: number;
    sseKeepaliveMs: number;
    /** Bytes an SSE response may hold unsent before its client, which is not reading, is disconnected. */
    sseMaxBufferBytes: number;
    /** Tool calls of one model round that run; the rest get a tool error. */
    maxToolCallsPerRound: number;
    /** Bytes of one tool result that are kept, for the model and in storage; the rest is cut. */
    toolResultMaxBytes: number;
    /** A model request larger than this, serialized, is not sent: the turn fails. */
    modelRequestMaxBytes: number;
    idempotencyTtlHours: number;
  };
  readonly bodyLimitBytes!: number;
  readonly shutdownGraceMs!: number;

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

/**
 * Reads and validates the environment once at boot. Every bad key is reported together, so an
 * operator fixes them in one pass.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`));
  }
  const e = parsed.data;
  const dataDir = resolve(e.DATA_DIR);
  const jwt = resolveJwtKeys(e, dataDir);

  return new AppConfig({
    nodeEnv: e.NODE_ENV,
    port: e.PORT,
    host: e.HOST,
    logLevel: e.LOG_LEVEL,
    databaseUrl: e.DATABASE_URL,
    dataDir,
    db: { poolSize: e.DB_POOL_SIZE, migrateOnBoot: e.DB_MIGRATE_ON_BOOT },
    jwt: {
      ...jwt,
      jwksUrl: e.JWT_JWKS_URL,
      issuer: e.JWT_ISSUER,
      audience: e.JWT_AUDIENCE,
      clockToleranceSeconds: e.JWT_CLOCK_TOLERANCE_S,
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
    redisUrl: e.REDIS_URL,
    chat: {
      maxToolRounds: e.CHAT_MAX_TOOL_ROUNDS,
      toolTimeoutMs: e.CHAT_TOOL_TIMEOUT_MS,
      turnTimeoutMs: e.CHAT_TURN_TIMEOUT_MS,
      contextTokenBudget: e.CHAT_CONTEXT_TOKEN_BUDGET,
      busyWaitMs: e.CHAT_BUSY_WAIT_MS,
      rateLimitPerMinute: e.CHAT_RATE_LIMIT_PER_MINUTE,
      leaseTtlMs: e.CHAT_LEASE_TTL_MS,
      sseKeepaliveMs: e.CHAT_SSE_KEEPALIVE_MS,
      sseMaxBufferBytes: e.CHAT_SSE_MAX_BUFFER_BYTES,
      maxToolCallsPerRound: e.CHAT_MAX_TOOL_CALLS_PER_ROUND,
      toolResultMaxBytes: e.CHAT_TOOL_RESULT_MAX_BYTES,
      modelRequestMaxBytes: e.CHAT_MODEL_REQUEST_MAX_BYTES,
      idempotencyTtlHours: e.IDEMPOTENCY_TTL_HOURS,
    },
    bodyLimitBytes: e.BODY_LIMIT_BYTES,
    shutdownGraceMs: e.SHUTDOWN_GRACE_MS,
  });
}

type ParsedEnv = z.infer<typeof envSchema>;

/** The HS256 secret, or none when a JWKS verifies tokens. */
function resolveJwtKeys(e: ParsedEnv, dataDir: string): { secret?: string } {
  const production = e.NODE_ENV === 'production';
  if (e.JWT_SECRET && e.JWT_JWKS_URL) {
    throw new ConfigError(['JWT_SECRET, JWT_JWKS_URL: set one of them, not both']);
  }
  if (e.JWT_JWKS_URL) return {};
  if (e.JWT_SECRET) {
    if (production && (PLACEHOLDER_SECRETS.test(e.JWT_SECRET) || e.JWT_SECRET.length < MIN_PRODUCTION_SECRET_LENGTH)) {
      throw new ConfigError([
        `JWT_SECRET: a placeholder or a secret shorter than ${MIN_PRODUCTION_SECRET_LENGTH} characters is refused in production`,
      ]);
    }
    return { secret: e.JWT_SECRET };
  }
  if (production) {
    throw new ConfigError(['JWT_SECRET or JWT_JWKS_URL: one of them is required in production']);
  }
  return { secret: readOrCreateDevSecret(dataDir) };
}

/** Development only: a random secret kept in DATA_DIR so `npm run token` and the server agree. */
export function readOrCreateDevSecret(dataDir: string): string {
  const file = join(dataDir, DEV_SECRET_FILE);
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(dataDir, { recursive: true });
  const secret = randomBytes(48).toString('base64url');
  writeFileSync(file, `${secret}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return secret;
}
