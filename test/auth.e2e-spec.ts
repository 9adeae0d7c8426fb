import { Controller, Get, UseGuards } from '@nestjs/common';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import jwt from 'jsonwebtoken';
import { createHmac, generateKeyPairSync, sign as cryptoSign, type KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AUTH_DETAILS } from '../src/auth/auth-failure';
import type { AuthUser } from '../src/auth/auth-user';
import { AuthModule } from '../src/auth/auth.module';
import { CurrentUser } from '../src/auth/current-user.decorator';
import { OwnershipGuard } from '../src/auth/ownership.guard';
import { Public } from '../src/common/http/public.decorator';
import { SERVICE_IDENTITY } from '../src/common/identity/service-identity';
import { ProblemDetailsFilter } from '../src/common/problem/problem-details.filter';
import { AppConfig, ConfigError, loadConfig } from '../src/config/app-config';
import { ConfigModule } from '../src/config/config.module';

const SECRET = 'e2e-auth-secret-that-is-long-enough-for-hs256-0123456789';
const CLOCK_TOLERANCE_S = 5;

@Controller()
class ProbeController {
  @Get('api/:user_id/ping')
  @UseGuards(OwnershipGuard)
  ping(@CurrentUser() user: AuthUser): { user_id: string } {
    return { user_id: user.userId };
  }

  @Public()
  @Get('open')
  open(): { open: true } {
    return { open: true };
  }
}

/** A local JWKS endpoint that serves what `keySet()` returns at each request, and counts them. */
async function startJwksServer(
  keySet: () => unknown,
): Promise<{ url: string; requests(): number; close(): Promise<void> }> {
  let requests = 0;
  const server: Server = createServer((_request, response) => {
    requests++;
    response.setHeader('content-type', 'application/json');
    response.end(JSON.stringify(keySet()));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/.well-known/jwks.json`,
    requests: () => requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

async function startApp(env: Record<string, string>): Promise<NestFastifyApplication> {
  const moduleRef = await Test.createTestingModule({
    imports: [ConfigModule, AuthModule],
    controllers: [ProbeController],
  })
    .overrideProvider(AppConfig)
    .useValue(loadConfig({ NODE_ENV: 'test', JWT_CLOCK_TOLERANCE_S: String(CLOCK_TOLERANCE_S), ...env }))
    .compile();
  const app = moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter(), { logger: false });
  app.useGlobalFilters(new ProblemDetailsFilter());
  await app.init();
  await app.getHttpAdapter().getInstance().ready();
  return app;
}

const now = () => Math.floor(Date.now() / 1000);
const inTenMinutes = () => now() + 600;
const encode = (part: object) => Buffer.from(JSON.stringify(part)).toString('base64url');

/** Builds a token by hand, for what jsonwebtoken.sign refuses to produce (alg none, HMAC over a PEM, EdDSA). */
function rawToken(header: object, claims: object, signature: (signingInput: string) => string): string {
  const signingInput = `${encode(header)}.${encode(claims)}`;
  return `${signingInput}.${signature(signingInput)}`;
}

/** Signs a payload given as JSON text, for numbers JSON.stringify cannot write (`1e400`). */
function hs256Json(header: object, payloadJson: string): string {
  const signingInput = `${encode(header)}.${Buffer.from(payloadJson).toString('base64url')}`;
  return `${signingInput}.${createHmac('sha256', SECRET).update(signingInput).digest('base64url')}`;
}

function hs256(claims: object, secret: string = SECRET): string {
  return jwt.sign(claims, secret, { algorithm: 'HS256' });
}

function ping(app: NestFastifyApplication, token?: string, userId = 'alice') {
  return app.inject({
    method: 'GET',
    url: `/api/${userId}/ping`,
    headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
  });
}

type Reply = Awaited<ReturnType<typeof ping>>;

function expectUnauthorized(reply: Reply, detail: string | RegExp): void {
  expect(reply.statusCode).toBe(401);
  expect(reply.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(reply.headers['www-authenticate']).toMatch(/^Bearer\b/);
  const body = reply.json<{ code: string; detail: string }>();
  expect(body.code).toBe('unauthorized');
  if (typeof detail === 'string') expect(body.detail).toBe(detail);
  else expect(body.detail).toMatch(detail);
}

describe('Auth (e2e)', () => {
  it('stops the boot with a ConfigError naming JWT_SECRET when production is given a placeholder secret', async () => {
    await expect(startApp({ NODE_ENV: 'production', JWT_SECRET: 'changeme' })).rejects.toThrow(
      new ConfigError(['JWT_SECRET: a placeholder or a secret shorter than 32 characters is refused in production']),
    );
  });

  describe('with an HS256 secret', () => {
    let app: NestFastifyApplication;
    const { privateKey: rsaKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });

    beforeAll(async () => {
      app = await startApp({ JWT_SECRET: SECRET });
    });

    afterAll(async () => {
      await app.close();
    });

    it('answers 200 with the principal for a valid token', async () => {
      const reply = await ping(app, hs256({ sub: 'alice', exp: inTenMinutes() }));

      expect(reply.statusCode).toBe(200);
      expect(reply.json()).toEqual({ user_id: 'alice' });
    });

    it('answers 401 with a Bearer challenge when no token is sent', async () => {
      const reply = await ping(app);

      expectUnauthorized(reply, AUTH_DETAILS.missing);
      expect(reply.headers['www-authenticate']).not.toMatch(/invalid_token/);
    });

    it('answers 401 to a token sent in the query string instead of the header', async () => {
      const token = hs256({ sub: 'alice', exp: inTenMinutes() });

      expectUnauthorized(
        await app.inject({ method: 'GET', url: `/api/alice/ping?access_token=${token}` }),
        AUTH_DETAILS.missing,
      );
    });

    it('answers 401 to a malformed token', async () => {
      const reply = await ping(app, 'not-a-jwt');

      expectUnauthorized(reply, AUTH_DETAILS.malformed);
      expect(reply.headers['www-authenticate']).toMatch(/error="invalid_token"/);
    });

    it('answers 401 to an expired token', async () => {
      expectUnauthorized(await ping(app, hs256({ sub: 'alice', exp: now() - 60 })), /^The token has expired \(exp: /);
    });

    it('answers 401 to a token that is not valid yet (nbf)', async () => {
      const token = hs256({ sub: 'alice', nbf: now() + 60, exp: inTenMinutes() });

      expectUnauthorized(await ping(app, token), /^The token is not valid yet \(nbf: /);
    });

    it('answers 401 to a token without exp', async () => {
      expectUnauthorized(await ping(app, hs256({ sub: 'alice' })), AUTH_DETAILS.missingExp);
    });

    it('answers 401 to a token signed with another secret', async () => {
      const token = hs256({ sub: 'alice', exp: inTenMinutes() }, 'a-different-secret-of-the-same-length-0123456789');

      expectUnauthorized(await ping(app, token), AUTH_DETAILS.badSignature);
    });

    it('answers 401 to an unsigned token (alg: none)', async () => {
      const token = rawToken({ alg: 'none', typ: 'JWT' }, { sub: 'alice', exp: inTenMinutes() }, () => '');

      expectUnauthorized(await ping(app, token), AUTH_DETAILS.unsigned);
    });

    it('answers 401 to an RS256 token: only HS256 is accepted with a shared secret', async () => {
      const token = jwt.sign({ sub: 'alice', exp: inTenMinutes() }, rsaKey, { algorithm: 'RS256' });

      expectUnauthorized(await ping(app, token), AUTH_DETAILS.unsupportedAlgorithm);
    });

    it.each([
      ['is missing', { exp: inTenMinutes() }],
      ['is a number', { sub: 42, exp: inTenMinutes() }],
      ['is empty', { sub: '', exp: inTenMinutes() }],
    ])('answers 401 to a token whose sub %s', async (_case, claims) => {
      expectUnauthorized(await ping(app, hs256(claims)), AUTH_DETAILS.invalidSub);
    });

    it.each([
      ['leading whitespace', ' alice'],
      ['trailing whitespace', 'alice '],
      ['a trailing no-break space', 'alice\u00a0'],
      ['a control character', 'ali\u0007ce'],
      ['a newline', 'alice\nadmin'],
      ['a decomposed (not NFC) accent', 'jose\u0301'],
      ['a lone UTF-16 surrogate', 'alice\ud800'],
      ['the service identity', SERVICE_IDENTITY],
    ])('answers 401 to a token whose sub has %s', async (_case, sub) => {
      const reply = await ping(app, hs256({ sub, exp: inTenMinutes() }), encodeURIComponent(sub.toWellFormed()));

      expectUnauthorized(reply, AUTH_DETAILS.invalidSub);
    });

    it('accepts an NFC sub with non-ASCII letters', async () => {
      const sub = 'jos\u00e9';

      expect((await ping(app, hs256({ sub, exp: inTenMinutes() }), encodeURIComponent(sub))).statusCode).toBe(200);
    });

    it.each([undefined, 'JWT', 'jwt', 'at+jwt', 'AT+JWT'])('accepts a token whose typ header is %s', async (typ) => {
      const token = rawToken(
        { alg: 'HS256', ...(typ !== undefined && { typ }) },
        { sub: 'alice', exp: inTenMinutes() },
        (input) => createHmac('sha256', SECRET).update(input).digest('base64url'),
      );

      expect((await ping(app, token)).statusCode).toBe(200);
    });

    it.each(['mcp-user+jwt', 'JOSE', 'id+jwt', ''])('answers 401 to a token whose typ header is %j', async (typ) => {
      const token = jwt.sign({ sub: 'alice', exp: inTenMinutes() }, SECRET, {
        algorithm: 'HS256',
        header: { alg: 'HS256', typ },
      });

      expectUnauthorized(await ping(app, token), AUTH_DETAILS.wrongTokenType);
    });

    it('answers 401 to a token with a crit header: no extension it names is understood here', async () => {
      const token = jwt.sign({ sub: 'alice', exp: inTenMinutes() }, SECRET, {
        algorithm: 'HS256',
        header: { alg: 'HS256', crit: ['exp'] } as jwt.JwtHeader,
      });

      expectUnauthorized(await ping(app, token), AUTH_DETAILS.criticalHeader);
    });

    it.each([
      ['an exp of 1e400 (Infinity)', `{"sub":"alice","exp":1e400}`],
      ['an exp of -1e400', `{"sub":"alice","exp":-1e400}`],
      ['an exp past year 9999', `{"sub":"alice","exp":1e17}`],
      ['an nbf of -1e400', `{"sub":"alice","exp":${inTenMinutes()},"nbf":-1e400}`],
      ['an iat of 1e400', `{"sub":"alice","exp":${inTenMinutes()},"iat":1e400}`],
      ['a string iat', `{"sub":"alice","exp":${inTenMinutes()},"iat":"now"}`],
    ])('answers 401, not 200 or 500, to a token with %s', async (_case, payload) => {
      expectUnauthorized(await ping(app, hs256Json({ alg: 'HS256', typ: 'JWT' }, payload)), AUTH_DETAILS.badTimeClaim);
    });

    it(`accepts a token expired less than the clock tolerance (${CLOCK_TOLERANCE_S} s) ago`, async () => {
      expect((await ping(app, hs256({ sub: 'alice', exp: now() - 2 }))).statusCode).toBe(200);
    });

    it('accepts a token whose nbf is less than the clock tolerance ahead', async () => {
      expect((await ping(app, hs256({ sub: 'alice', nbf: now() + 2, exp: inTenMinutes() }))).statusCode).toBe(200);
    });

    it('answers 401 to a token expired just beyond the clock tolerance', async () => {
      expectUnauthorized(await ping(app, hs256({ sub: 'alice', exp: now() - CLOCK_TOLERANCE_S - 2 })), /has expired/);
    });

    it("answers 403 when the path user_id is not the token's sub", async () => {
      const reply = await ping(app, hs256({ sub: 'alice', exp: inTenMinutes() }), 'bob');

      expect(reply.statusCode).toBe(403);
      expect(reply.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(reply.json()).toMatchObject({ code: 'forbidden', status: 403 });
    });

    it('serves a @Public() route without a token', async () => {
      const reply = await app.inject({ method: 'GET', url: '/open' });

      expect(reply.statusCode).toBe(200);
      expect(reply.json()).toEqual({ open: true });
    });
  });

  describe('with an issuer and an audience', () => {
    let app: NestFastifyApplication;
    const valid = { sub: 'alice', iss: 'https://auth.example', aud: 'chat-service' };

    beforeAll(async () => {
      app = await startApp({ JWT_SECRET: SECRET, JWT_ISSUER: valid.iss, JWT_AUDIENCE: valid.aud });
    });

    afterAll(async () => {
      await app.close();
    });

    it('answers 200 when both match', async () => {
      expect((await ping(app, hs256({ ...valid, exp: inTenMinutes() }))).statusCode).toBe(200);
    });

    it('answers 401 to a wrong issuer', async () => {
      const token = hs256({ ...valid, iss: 'https://evil.example', exp: inTenMinutes() });

      expectUnauthorized(await ping(app, token), AUTH_DETAILS.wrongIssuer);
    });

    it('answers 401 to a token without an issuer', async () => {
      const token = hs256({ sub: valid.sub, aud: valid.aud, exp: inTenMinutes() });

      expectUnauthorized(await ping(app, token), AUTH_DETAILS.wrongIssuer);
    });

    it('answers 401 to a wrong audience', async () => {
      const token = hs256({ ...valid, aud: 'another-service', exp: inTenMinutes() });

      expectUnauthorized(await ping(app, token), AUTH_DETAILS.wrongAudience);
    });
  });

  describe('with MCP servers configured', () => {
    let app: NestFastifyApplication;
    let dir: string;

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'auth-mcp-audiences-'));
      const file = join(dir, 'mcp.json');
      writeFileSync(
        file,
        JSON.stringify({ mcpServers: { tasks: { builtin: 'tasks' }, github: { url: 'http://127.0.0.1:9/mcp' } } }),
      );
      app = await startApp({ JWT_SECRET: SECRET, MCP_CONFIG: file });
    });

    afterAll(async () => {
      await app.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it.each([
      ['names a configured MCP server', 'github'],
      ['lists a configured MCP server among others', ['web-app', 'github']],
      ['names the built-in tasks server', 'tasks'],
    ])('answers 401 to a token whose aud %s, even with no JWT_AUDIENCE set', async (_case, aud) => {
      expectUnauthorized(await ping(app, hs256({ sub: 'alice', aud, exp: inTenMinutes() })), AUTH_DETAILS.mcpAudience);
    });

    it('accepts a token whose aud names no MCP server', async () => {
      expect((await ping(app, hs256({ sub: 'alice', aud: 'web-app', exp: inTenMinutes() }))).statusCode).toBe(200);
    });
  });

  describe('with a JWKS', () => {
    let app: NestFastifyApplication;
    let jwksServer: Awaited<ReturnType<typeof startJwksServer>>;
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const ed = generateKeyPairSync('ed25519');
    const jwk = (key: KeyObject, kid: string) => ({ ...key.export({ format: 'jwk' }), kid, use: 'sig' });
    const jwks = { keys: [jwk(rsa.publicKey, 'rsa-1'), jwk(ec.publicKey, 'ec-1'), jwk(ed.publicKey, 'ed-1')] };
    const claims = () => ({ sub: 'alice', exp: inTenMinutes() });
    const rs256 = (kid = 'rsa-1', key: KeyObject = rsa.privateKey) =>
      jwt.sign(claims(), key, { algorithm: 'RS256', keyid: kid });

    beforeAll(async () => {
      jwksServer = await startJwksServer(() => jwks);
      app = await startApp({ JWT_JWKS_URL: jwksServer.url });
    });

    afterAll(async () => {
      await app.close();
      await jwksServer.close();
    });

    it('answers 200 to an RS256 token and caches the key set', async () => {
      expect((await ping(app, rs256())).statusCode).toBe(200);
      const fetched = jwksServer.requests();

      expect((await ping(app, rs256())).statusCode).toBe(200);
      expect((await ping(app, rs256())).statusCode).toBe(200);
      expect(jwksServer.requests()).toBe(fetched);
    });

    it('answers 200 to an ES256 token', async () => {
      const token = jwt.sign(claims(), ec.privateKey, { algorithm: 'ES256', keyid: 'ec-1' });

      expect((await ping(app, token)).statusCode).toBe(200);
    });

    // SPEC §2 names EdDSA, but passport-jwt verifies with jsonwebtoken 9, which has no EdDSA: refused
    // cleanly for now. This test flips when the verifier gains EdDSA; then expect 200 here.
    it('answers 401 "algorithm not accepted" to an EdDSA token (jsonwebtoken 9 cannot verify EdDSA)', async () => {
      const token = rawToken({ alg: 'EdDSA', typ: 'JWT', kid: 'ed-1' }, claims(), (input) =>
        cryptoSign(null, Buffer.from(input), ed.privateKey).toString('base64url'),
      );

      expectUnauthorized(await ping(app, token), AUTH_DETAILS.unsupportedAlgorithm);
    });

    it('answers 401 to an HS256 token whose secret is the RSA public key (HS/RS key confusion)', async () => {
      const publicPem = rsa.publicKey.export({ format: 'pem', type: 'spki' }).toString();
      const token = rawToken({ alg: 'HS256', typ: 'JWT', kid: 'rsa-1' }, claims(), (input) =>
        createHmac('sha256', publicPem).update(input).digest('base64url'),
      );

      expectUnauthorized(await ping(app, token), AUTH_DETAILS.unsupportedAlgorithm);
    });

    it('answers 401 to an ES256 token that names the RSA key', async () => {
      const token = jwt.sign(claims(), ec.privateKey, { algorithm: 'ES256', keyid: 'rsa-1' });

      expectUnauthorized(await ping(app, token), AUTH_DETAILS.unsupportedAlgorithm);
    });

    it('answers 401 to a token signed by another key under a known kid', async () => {
      const stranger = generateKeyPairSync('rsa', { modulusLength: 2048 });

      expectUnauthorized(await ping(app, rs256('rsa-1', stranger.privateKey)), AUTH_DETAILS.badSignature);
    });

    it('answers 401 to a token whose kid is not in the key set', async () => {
      expectUnauthorized(await ping(app, rs256('unknown-kid')), AUTH_DETAILS.unknownKey);
    });

    it('answers 401 to an unsigned token (alg: none)', async () => {
      const token = rawToken({ alg: 'none', typ: 'JWT' }, claims(), () => '');

      expectUnauthorized(await ping(app, token), AUTH_DETAILS.unsigned);
    });

    it('answers 401 to an expired RS256 token', async () => {
      const token = jwt.sign({ sub: 'alice', exp: now() - 60 }, rsa.privateKey, { algorithm: 'RS256', keyid: 'rsa-1' });

      expectUnauthorized(await ping(app, token), /has expired/);
    });
  });

  describe('with a JWKS whose key rotates', () => {
    const REFETCH_S = 1;
    let app: NestFastifyApplication;
    let jwksServer: Awaited<ReturnType<typeof startJwksServer>>;
    const current = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const next = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const jwk = (key: KeyObject, kid: string) => ({ ...key.export({ format: 'jwk' }), kid, use: 'sig', alg: 'RS256' });
    let jwks = { keys: [jwk(current.publicKey, 'current')] };
    const rs256 = (kid: string, key: KeyObject) =>
      jwt.sign({ sub: 'alice', exp: inTenMinutes() }, key, { algorithm: 'RS256', keyid: kid });

    beforeAll(async () => {
      jwksServer = await startJwksServer(() => jwks);
      app = await startApp({
        JWT_JWKS_URL: jwksServer.url,
        JWT_JWKS_MIN_REFETCH_S: String(REFETCH_S),
      });
    });

    afterAll(async () => {
      await app.close();
      await jwksServer.close();
    });

    it(`accepts a rotated key within ${REFETCH_S} s after a flood of 50 made-up kids, which cost one JWKS fetch`, async () => {
      expect((await ping(app, rs256('current', current.privateKey))).statusCode).toBe(200);
      const before = jwksServer.requests();

      const flood = await Promise.all(
        Array.from({ length: 50 }, (_, i) => ping(app, rs256(`made-up-${i}-${Math.random()}`, current.privateKey))),
      );
      for (const reply of flood) expectUnauthorized(reply, AUTH_DETAILS.unknownKey);
      expect(jwksServer.requests() - before).toBeLessThanOrEqual(1);

      jwks = { keys: [jwk(current.publicKey, 'current'), jwk(next.publicKey, 'next')] };
      await new Promise((resolve) => setTimeout(resolve, REFETCH_S * 1000 + 100));

      expect((await ping(app, rs256('next', next.privateKey))).statusCode).toBe(200);
      expect((await ping(app, rs256('current', current.privateKey))).statusCode).toBe(200);
    });

    it('does not fetch the key set again for a kid a fetch already found missing', async () => {
      const kid = `repeated-${Math.random()}`;
      await new Promise((resolve) => setTimeout(resolve, REFETCH_S * 1000 + 100));
      expectUnauthorized(await ping(app, rs256(kid, current.privateKey)), AUTH_DETAILS.unknownKey);
      const before = jwksServer.requests();

      await new Promise((resolve) => setTimeout(resolve, REFETCH_S * 1000 + 100));
      for (let i = 0; i < 5; i++)
        expectUnauthorized(await ping(app, rs256(kid, current.privateKey)), AUTH_DETAILS.unknownKey);

      expect(jwksServer.requests()).toBe(before);
    });
  });

  describe('with an unreachable JWKS', () => {
    let app: NestFastifyApplication;

    beforeAll(async () => {
      const closed = createServer();
      await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
      const { port } = closed.address() as AddressInfo;
      await new Promise((resolve) => closed.close(resolve));
      app = await startApp({ JWT_JWKS_URL: `http://127.0.0.1:${port}/jwks.json` });
    });

    afterAll(async () => {
      await app.close();
    });

    it('answers 503 auth_unavailable with Retry-After, not 401, so a client with a good token is not sent to sign in again', async () => {
      const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      const token = jwt.sign({ sub: 'alice', exp: inTenMinutes() }, privateKey, { algorithm: 'RS256', keyid: 'k' });

      const reply = await ping(app, token);

      expect(reply.statusCode).toBe(503);
      expect(reply.headers['retry-after']).toBe('5');
      expect(reply.json()).toMatchObject({ code: 'auth_unavailable', detail: AUTH_DETAILS.keysUnavailable });
    });
  });
});
