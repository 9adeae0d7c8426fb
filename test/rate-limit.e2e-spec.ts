import { Body, Controller, HttpCode, Logger, Post, UseGuards } from '@nestjs/common';
import { APP_FILTER, APP_PIPE } from '@nestjs/core';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { IsString, MinLength } from 'class-validator';
import { Redis } from 'ioredis';
import jwt from 'jsonwebtoken';
import { randomUUID } from 'node:crypto';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { AuthModule } from '../src/auth/auth.module';
import { OwnershipGuard } from '../src/auth/ownership.guard';
import { configureApp, createFastifyAdapter } from '../src/bootstrap/create-app';
import { createLogger } from '../src/common/logging/create-logger';
import { ProblemDetailsFilter } from '../src/common/problem/problem-details.filter';
import { StrictValidationPipe } from '../src/common/validation/strict-validation.pipe';
import { MetricsModule } from '../src/metrics/metrics.module';
import { loadConfig } from '../src/config/app-config';
import { ConfigModule } from '../src/config/config.module';
import { ChatRateLimitGuard } from '../src/rate-limit/chat-rate-limit.guard';
import { McpRateLimitGuard } from '../src/rate-limit/mcp-rate-limit.guard';
import { RateLimitModule } from '../src/rate-limit/rate-limit.module';
import { RATE_LIMIT_NAMESPACE } from '../src/rate-limit/rate-limit-key';
import { startChatHarness, type ChatHarness } from './support/chat-harness';
import { newUserId, TEST_JWT_SECRET } from './support/test-app';

const LIMIT = 3;
const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
/** This run's keys only: parallel runs on the same Redis never spend each other's budgets. */
const NAMESPACE = `chat-service-test-${randomUUID()}:rate-limit`;

class PingDto {
  @IsString()
  @MinLength(1)
  message: string;
}

/** Stands in for ChatController: the same guard chain (global JWT guard, OwnershipGuard, the rate limit). */
@Controller('api/:user_id/limited')
@UseGuards(OwnershipGuard, ChatRateLimitGuard)
class LimitedController {
  @Post()
  @HttpCode(200)
  send(@Body() _body: PingDto): { ok: true } {
    return { ok: true };
  }
}

/** Stands in for the `/mcp` controller: the JWT guard, then the MCP budget. */
@Controller('mcp-limited')
@UseGuards(McpRateLimitGuard)
class McpLimitedController {
  @Post()
  @HttpCode(200)
  send(): { ok: true } {
    return { ok: true };
  }
}

/** The auth, validation and problem+json of the real app around LimitedController: no database needed. */
async function startLimitedApp(env: Record<string, string> = {}): Promise<NestFastifyApplication> {
  const config = loadConfig({
    NODE_ENV: 'test',
    JWT_SECRET: TEST_JWT_SECRET,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    CHAT_RATE_LIMIT_PER_MINUTE: String(LIMIT),
    ...env,
  });
  const moduleRef = await Test.createTestingModule({
    imports: [ConfigModule.forRoot(config), MetricsModule, AuthModule, RateLimitModule],
    controllers: [LimitedController, McpLimitedController],
    providers: [
      { provide: APP_PIPE, useClass: StrictValidationPipe },
      { provide: APP_FILTER, useClass: ProblemDetailsFilter },
    ],
  })
    .overrideProvider(RATE_LIMIT_NAMESPACE)
    .useValue(NAMESPACE)
    .compile();
  const app = moduleRef.createNestApplication<NestFastifyApplication>(
    createFastifyAdapter(config, createLogger(config.logLevel)),
    { logger: false },
  );
  return configureApp(app);
}

const bearer = (sub: string) => ({
  authorization: `Bearer ${jwt.sign({ sub }, TEST_JWT_SECRET, { algorithm: 'HS256', expiresIn: '10m' })}`,
});

function send(app: NestFastifyApplication, userId: string, payload: object = { message: 'hi' }, asUser = userId) {
  return app.inject({ method: 'POST', url: `/api/${userId}/limited`, headers: bearer(asUser), payload });
}

/** `"chat";r=2;t=60` → { remaining: 2, resetSeconds: 60 }; fails the test on any other shape. */
function parseRateLimit(header: unknown): { remaining: number; resetSeconds: number } {
  const match = /^"chat";r=(\d+);t=(\d+)$/.exec(String(header));
  if (!match) throw new Error(`Unexpected RateLimit header: ${String(header)}`);
  return { remaining: Number(match[1]), resetSeconds: Number(match[2]) };
}

/** A port nothing listens on: bound, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A TCP relay to Redis that the test can cut, as a network failure would. */
async function startRedisRelay(): Promise<{ url: string; cut(): Promise<void> }> {
  const target = new URL(REDIS_URL);
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(Number(target.port || 6379), target.hostname);
    const drop = () => {
      client.destroy();
      upstream.destroy();
    };
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('error', drop).on('close', drop);
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const relayed = new URL(REDIS_URL);
  relayed.hostname = '127.0.0.1';
  relayed.port = String(port);
  return {
    url: relayed.toString(),
    cut: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      }),
  };
}

afterAll(async () => {
  const redis = new Redis(REDIS_URL);
  for await (const keys of redis.scanStream({ match: `${NAMESPACE}:*` }) as AsyncIterable<string[]>) {
    if (keys.length > 0) await redis.del(...keys);
  }
  await redis.quit();
});

describe.each([
  ['in process (no REDIS_URL)', {}],
  ['in Redis (REDIS_URL set)', { REDIS_URL }],
])('chat rate limit guard, budget kept %s', (_store, env: Record<string, string>) => {
  let app: NestFastifyApplication;
  beforeAll(async () => {
    app = await startLimitedApp(env);
  });
  afterAll(() => app.close());

  it('lets the first N requests of a minute through, with RateLimit headers counting down', async () => {
    const userId = newUserId();

    const responses = [await send(app, userId), await send(app, userId), await send(app, userId)];

    expect(responses.map((response) => response.statusCode)).toEqual([200, 200, 200]);
    for (const response of responses) {
      expect(response.headers['ratelimit-policy']).toBe(`"chat";q=${LIMIT};w=60`);
      expect(response.headers['x-ratelimit-remaining']).toBeUndefined();
    }
    const limits = responses.map((response) => parseRateLimit(response.headers.ratelimit));
    expect(limits.map((limit) => limit.remaining)).toEqual([2, 1, 0]);
    for (const { resetSeconds } of limits) {
      expect(resetSeconds).toBeGreaterThanOrEqual(1);
      expect(resetSeconds).toBeLessThanOrEqual(60);
    }
  });

  it('answers the N+1th request of a minute with 429 problem+json, Retry-After and code rate_limited', async () => {
    const userId = newUserId();
    for (let i = 0; i < LIMIT; i++) await send(app, userId);

    const response = await send(app, userId);

    expect(response.statusCode).toBe(429);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    const retryAfter = Number(response.headers['retry-after']);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(parseRateLimit(response.headers.ratelimit)).toEqual({ remaining: 0, resetSeconds: retryAfter });
    expect(response.json()).toMatchObject({
      status: 429,
      code: 'rate_limited',
      type: '/problems/rate_limited',
      detail: `Too many chat requests: at most ${LIMIT} a minute. Retry after ${retryAfter} second${retryAfter === 1 ? '' : 's'}.`,
      request_id: response.headers['x-request-id'],
    });
  });

  it('keeps a separate budget per user', async () => {
    const [alice, bob] = [newUserId(), newUserId()];
    for (let i = 0; i < LIMIT; i++) await send(app, alice);

    const [aliceAgain, bobFirst] = [await send(app, alice), await send(app, bob)];

    expect(aliceAgain.statusCode).toBe(429);
    expect(bobFirst.statusCode).toBe(200);
    expect(parseRateLimit(bobFirst.headers.ratelimit).remaining).toBe(LIMIT - 1);
  });

  it('counts a request that then fails validation', async () => {
    const userId = newUserId();

    const invalid = await send(app, userId, { message: '' });
    const valid = await send(app, userId);

    expect(invalid.statusCode).toBe(400);
    expect(parseRateLimit(invalid.headers.ratelimit).remaining).toBe(LIMIT - 1);
    expect(parseRateLimit(valid.headers.ratelimit).remaining).toBe(LIMIT - 2);
  });

  it('does not count requests refused by the JWT guard (401) or OwnershipGuard (403)', async () => {
    const [userId, intruder] = [newUserId(), newUserId()];

    const unauthenticated = await app.inject({
      method: 'POST',
      url: `/api/${userId}/limited`,
      payload: { message: 'hi' },
    });
    const forbidden = await send(app, userId, { message: 'hi' }, intruder);
    const own = await send(app, userId);

    expect([unauthenticated.statusCode, forbidden.statusCode]).toEqual([401, 403]);
    expect(unauthenticated.headers.ratelimit).toBeUndefined();
    expect(forbidden.headers.ratelimit).toBeUndefined();
    expect(parseRateLimit(own.headers.ratelimit).remaining).toBe(LIMIT - 1);
  });
});

describe('chat rate limit across replicas and Redis failures', () => {
  let redis: Redis;
  const apps: NestFastifyApplication[] = [];
  const start = async (env: Record<string, string>) => {
    const app = await startLimitedApp(env);
    apps.push(app);
    return app;
  };

  beforeAll(() => {
    redis = new Redis(REDIS_URL);
  });
  afterEach(async () => {
    jest.restoreAllMocks();
    await Promise.all(apps.splice(0).map((app) => app.close()));
  });
  afterAll(() => redis.quit());

  it('shares one budget per user between two app instances on the same Redis', async () => {
    const [replicaA, replicaB] = [await start({ REDIS_URL }), await start({ REDIS_URL })];
    const userId = newUserId();

    const responses = [
      await send(replicaA, userId),
      await send(replicaB, userId),
      await send(replicaA, userId),
      await send(replicaB, userId),
      await send(replicaA, userId),
    ];

    expect(responses.map((response) => response.statusCode)).toEqual([200, 200, 200, 429, 429]);
    expect(responses.slice(0, 3).map((response) => parseRateLimit(response.headers.ratelimit).remaining)).toEqual([
      2, 1, 0,
    ]);
    const key = `${NAMESPACE}:chat:${userId}`;
    expect(await redis.pttl(key)).toBeGreaterThan(0);
    expect(await redis.pttl(key)).toBeLessThanOrEqual(60_000);
  });

  it('keeps the /mcp budget in the same Redis, shared by replicas and apart from the chat budget', async () => {
    const [replicaA, replicaB] = [
      await start({ REDIS_URL, MCP_RATE_LIMIT_PER_MINUTE: '2' }),
      await start({ REDIS_URL, MCP_RATE_LIMIT_PER_MINUTE: '2' }),
    ];
    const userId = newUserId();
    const mcp = (app: NestFastifyApplication) =>
      app.inject({ method: 'POST', url: '/mcp-limited', headers: bearer(userId), payload: {} });

    const statuses = [
      (await mcp(replicaA)).statusCode,
      (await mcp(replicaB)).statusCode,
      (await mcp(replicaA)).statusCode,
    ];
    const chat = await send(replicaB, userId);

    expect(statuses).toEqual([200, 200, 429]);
    expect(chat.statusCode).toBe(200);
    expect(parseRateLimit(chat.headers.ratelimit).remaining).toBe(LIMIT - 1);
    expect(await redis.exists(`${NAMESPACE}:mcp:${userId}`)).toBe(1);
  });

  it('keeps serving and limiting in process, and logs it, when Redis is unreachable from the start', async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn');
    const app = await start({ REDIS_URL: `redis://127.0.0.1:${await closedPort()}` });
    const userId = newUserId();

    const responses = [];
    for (let i = 0; i <= LIMIT; i++) responses.push(await send(app, userId));

    expect(responses.map((response) => response.statusCode)).toEqual([200, 200, 200, 429]);
    expect(responses.map((response) => parseRateLimit(response.headers.ratelimit).remaining)).toEqual([2, 1, 0, 0]);
    expect(warn).toHaveBeenCalledWith(
      expect.stringMatching(/Redis for rate limits is unreachable.*limited in process/),
    );
  });

  it('falls back to limiting in process, without a 5xx, when Redis goes away mid-run', async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn');
    const relay = await startRedisRelay();
    const app = await start({ REDIS_URL: relay.url });
    const userId = newUserId();
    const beforeCut = await send(app, userId);
    expect(await redis.exists(`${NAMESPACE}:chat:${userId}`)).toBe(1);

    await relay.cut();
    const afterCut = [];
    for (let i = 0; i <= LIMIT; i++) afterCut.push(await send(app, userId));

    expect(beforeCut.statusCode).toBe(200);
    // The in-process insurance budget starts afresh: it never saw the request Redis counted.
    expect(afterCut.map((response) => response.statusCode)).toEqual([200, 200, 200, 429]);
    expect(warn).toHaveBeenCalledWith(expect.stringMatching(/Redis for rate limits is unreachable/));
  });
});

describe('POST /api/{user_id}/chat per-user rate limit', () => {
  let h: ChatHarness;
  beforeAll(async () => {
    h = await startChatHarness({ env: { CHAT_RATE_LIMIT_PER_MINUTE: String(LIMIT) } });
  });
  afterAll(() => h.close());
  beforeEach(() => h.sim.reset());

  it('counts every authorized chat request, invalid ones too, and answers the next one in the minute with 429', async () => {
    const userId = newUserId();

    const answered = await h.send({ message: 'Hello there' }, userId);
    const blank = await h.send({ message: '   ' }, userId);
    const undeclaredField = await h.send({ message: 'Hi', mood: 'cheerful' }, userId);
    const limited = await h.send({ message: 'Hello again' }, userId);

    expect([answered, blank, undeclaredField, limited].map((response) => response.statusCode)).toEqual([
      200, 400, 400, 429,
    ]);
    expect(
      [answered, blank, undeclaredField].map((response) => parseRateLimit(response.headers.ratelimit).remaining),
    ).toEqual([2, 1, 0]);
    expect(answered.headers['ratelimit-policy']).toBe(`"chat";q=${LIMIT};w=60`);
    expect(limited.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(limited.json()).toMatchObject({ status: 429, code: 'rate_limited' });
    expect(h.sim.requests).toHaveLength(1); // the limited request never reached the model
  });

  it('does not count chat requests refused with 401 or 403', async () => {
    const [userId, intruder] = [newUserId(), newUserId()];

    const unauthenticated = await h.t.app.inject({
      method: 'POST',
      url: `/api/${userId}/chat`,
      payload: { message: 'Hi' },
    });
    const forbidden = await h.t.app.inject({
      method: 'POST',
      url: `/api/${userId}/chat`,
      headers: h.t.authHeaders(intruder),
      payload: { message: 'Hi' },
    });
    const own = await h.send({ message: 'Hi' }, userId);

    expect([unauthenticated.statusCode, forbidden.statusCode, own.statusCode]).toEqual([401, 403, 200]);
    expect(parseRateLimit(own.headers.ratelimit).remaining).toBe(LIMIT - 1);
  });
});
