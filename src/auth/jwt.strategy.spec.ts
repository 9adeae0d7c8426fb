import jsonwebtoken, { type VerifyOptions } from 'jsonwebtoken';
import { generateKeyPairSync } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ExtractJwt, Strategy } from 'passport-jwt';
import { loadConfig } from '../config/app-config';
import { TokenRejectedError } from './auth-failure';
import type { AuthUser } from './auth-user';
import { resolveJwtSecret } from './jwt-secret';
import { JwtStrategy } from './jwt.strategy';

const SECRET = 'unit-test-secret-that-is-long-enough-0123456789';

type Outcome = { outcome: 'success' | 'fail' | 'error'; value: unknown };
interface PassportActions {
  success(user: unknown): void;
  fail(info: unknown): void;
  error(err: unknown): void;
  authenticate(request: unknown): void;
}

/** Runs one passport authentication attempt the way passport does: a per-request copy with its actions. */
function authenticate(strategy: Strategy, authorization?: string): Promise<Outcome> {
  return new Promise((resolve) => {
    const attempt = Object.create(strategy) as PassportActions;
    attempt.success = (value) => resolve({ outcome: 'success', value });
    attempt.fail = (value) => resolve({ outcome: 'fail', value });
    attempt.error = (value) => resolve({ outcome: 'error', value });
    attempt.authenticate({ headers: authorization === undefined ? {} : { authorization } });
  });
}

function strategyFor(env: Record<string, string>): JwtStrategy {
  const config = loadConfig({ NODE_ENV: 'test', ...env });
  return new JwtStrategy(config, resolveJwtSecret(config, 'create'));
}

function sign(claims: Record<string, unknown>): string {
  return jsonwebtoken.sign(claims, SECRET, { algorithm: 'HS256' });
}

const inAMinute = () => Math.floor(Date.now() / 1000) + 60;

describe(JwtStrategy.name, () => {
  let verify: jest.SpiedFunction<typeof jsonwebtoken.verify>;

  beforeEach(() => {
    verify = jest.spyOn(jsonwebtoken, 'verify');
  });

  afterEach(() => {
    verify.mockRestore();
  });

  /** What passport-jwt finally hands to jsonwebtoken.verify, after merging its own top-level options. */
  async function optionsReachingVerify(strategy: Strategy): Promise<VerifyOptions> {
    await authenticate(strategy, `Bearer ${sign({ sub: 'alice', exp: inAMinute() })}`);
    expect(verify).toHaveBeenCalledTimes(1);
    return verify.mock.calls[0][2] as VerifyOptions;
  }

  describe('options reaching jsonwebtoken.verify', () => {
    it('pins HS256 and keeps clock tolerance, issuer and audience with a shared secret', async () => {
      const strategy = strategyFor({
        JWT_SECRET: SECRET,
        JWT_ISSUER: 'https://issuer.example',
        JWT_AUDIENCE: 'chat-service',
        JWT_CLOCK_TOLERANCE_S: '7',
      });

      expect(await optionsReachingVerify(strategy)).toEqual({
        algorithms: ['HS256'],
        issuer: 'https://issuer.example',
        audience: 'chat-service',
        ignoreExpiration: false,
        clockTolerance: 7,
      });
    });

    it('leaves issuer and audience unchecked when they are not configured', async () => {
      const options = await optionsReachingVerify(strategyFor({ JWT_SECRET: SECRET }));

      expect(options.issuer).toBeUndefined();
      expect(options.audience).toBeUndefined();
      expect(options.algorithms).toEqual(['HS256']);
      expect(options.clockTolerance).toBe(5);
    });

    it('pins asymmetric algorithms only, never HS, when a JWKS is configured', async () => {
      const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      const jwks = { keys: [{ ...publicKey.export({ format: 'jwk' }), kid: 'k1', use: 'sig' }] };
      const server = createServer((_request, response) => response.end(JSON.stringify(jwks)));
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      try {
        const { port } = server.address() as AddressInfo;
        const strategy = strategyFor({ JWT_JWKS_URL: `http://127.0.0.1:${port}/jwks.json` });
        const token = jsonwebtoken.sign({ sub: 'alice', exp: inAMinute() }, privateKey, {
          algorithm: 'RS256',
          keyid: 'k1',
        });

        const outcome = await authenticate(strategy, `Bearer ${token}`);

        expect(outcome.outcome).toBe('success');
        expect(verify.mock.calls[0][2]).toEqual({
          algorithms: ['RS256', 'ES256'],
          ignoreExpiration: false,
          clockTolerance: 5,
        });
      } finally {
        server.close();
      }
    });

    it('documents the trap: passport-jwt drops algorithms given only inside jsonWebTokenOptions', async () => {
      const naive = new Strategy(
        {
          jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
          secretOrKey: SECRET,
          jsonWebTokenOptions: { algorithms: ['HS256'], issuer: 'https://issuer.example', clockTolerance: 3 },
        },
        (payload: unknown, done: (err: unknown, user: unknown) => void) => done(null, payload),
      );

      const options = await optionsReachingVerify(naive);

      expect(options.algorithms).toBeUndefined();
      expect(options.issuer).toBeUndefined();
      expect(options.clockTolerance).toBe(3);
    });
  });

  describe('claims', () => {
    it('returns the principal with the user id, the raw token and the claims', async () => {
      const token = sign({ sub: 'alice', exp: inAMinute(), scope: 'chat' });

      const { outcome, value } = await authenticate(strategyFor({ JWT_SECRET: SECRET }), `Bearer ${token}`);

      expect(outcome).toBe('success');
      const user = value as AuthUser;
      expect(user.userId).toBe('alice');
      expect(user.token).toBe(token);
      expect(user.claims).toMatchObject({ sub: 'alice', scope: 'chat' });
    });

    it.each([
      ['no exp', { sub: 'alice' }, 'missing_exp'],
      ['no sub', { exp: inAMinute() }, 'invalid_sub'],
      ['a numeric sub', { sub: 42, exp: inAMinute() }, 'invalid_sub'],
      ['an empty sub', { sub: '', exp: inAMinute() }, 'invalid_sub'],
      ['a sub over 255 characters', { sub: 'u'.repeat(256), exp: inAMinute() }, 'invalid_sub'],
    ])('rejects a correctly signed token with %s', async (_case, claims, reason) => {
      const { outcome, value } = await authenticate(strategyFor({ JWT_SECRET: SECRET }), `Bearer ${sign(claims)}`);

      expect(outcome).toBe('error');
      expect(value).toEqual(new TokenRejectedError(reason as TokenRejectedError['reason']));
    });

    it('rejects a token whose payload is not a JSON object', async () => {
      const token = jsonwebtoken.sign('just-a-string', SECRET, { algorithm: 'HS256' });

      const { outcome, value } = await authenticate(strategyFor({ JWT_SECRET: SECRET }), `Bearer ${token}`);

      expect(outcome).toBe('error');
      expect(value).toEqual(new TokenRejectedError('malformed'));
    });
  });

  describe('algorithm pre-check', () => {
    const unsignedHeader = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
    const claims = Buffer.from(JSON.stringify({ sub: 'alice', exp: inAMinute() })).toString('base64url');

    it('refuses alg none before any verification', async () => {
      const { outcome, value } = await authenticate(
        strategyFor({ JWT_SECRET: SECRET }),
        `Bearer ${unsignedHeader}.${claims}.`,
      );

      expect(outcome).toBe('fail');
      expect(value).toEqual(new TokenRejectedError('unsigned'));
      expect(verify).not.toHaveBeenCalled();
    });

    it('refuses an HS256 token without fetching the JWKS when a JWKS is configured', async () => {
      const strategy = strategyFor({ JWT_JWKS_URL: 'http://127.0.0.1:9/jwks.json' });

      const { outcome, value } = await authenticate(strategy, `Bearer ${sign({ sub: 'alice', exp: inAMinute() })}`);

      expect(outcome).toBe('fail');
      expect(value).toEqual(new TokenRejectedError('unsupported_algorithm'));
      expect(verify).not.toHaveBeenCalled();
    });
  });
});
