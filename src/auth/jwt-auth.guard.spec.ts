import type { ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import jsonwebtoken from 'jsonwebtoken';
import { JwksError } from 'jwks-rsa';
import { createHmac, generateKeyPairSync } from 'node:crypto';
import { AppError } from '../common/errors/app-error';
import { AUTH_DETAILS, TokenRejectedError } from './auth-failure';
import type { AuthUser } from './auth-user';
import { JwtAuthGuard } from './jwt-auth.guard';
import { Public } from '../common/http/public.decorator';

const SECRET = 'unit-test-secret-that-is-long-enough-0123456789';
const now = () => Math.floor(Date.now() / 1000);

/** The error jsonwebtoken itself raises for `token`, so the mapping is tested against the real messages. */
function verifyError(token: string, key: string = SECRET, options: jsonwebtoken.VerifyOptions = {}): Error {
  try {
    jsonwebtoken.verify(token, key, { algorithms: ['HS256'], ...options });
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the token to be rejected');
}

function sign(claims: Record<string, unknown>, key: string = SECRET): string {
  return jsonwebtoken.sign(claims, key, { algorithm: 'HS256' });
}

/** Signs claims jsonwebtoken.sign would refuse to sign. */
function signRaw(claims: Record<string, unknown>): string {
  const encode = (part: object) => Buffer.from(JSON.stringify(part)).toString('base64url');
  const unsigned = `${encode({ alg: 'HS256', typ: 'JWT' })}.${encode(claims)}`;
  return `${unsigned}.${createHmac('sha256', SECRET).update(unsigned).digest('base64url')}`;
}

function rejection(guard: JwtAuthGuard, err: unknown, info: unknown): AppError {
  try {
    guard.handleRequest(err, false, info);
  } catch (error) {
    return error as AppError;
  }
  throw new Error('expected handleRequest to throw');
}

describe(JwtAuthGuard.name, () => {
  const guard = new JwtAuthGuard(new Reflector());
  const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const publicPem = publicKey.export({ format: 'pem', type: 'spki' }).toString();

  describe('handleRequest', () => {
    it('returns the user passport-jwt accepted', () => {
      const user: AuthUser = { userId: 'alice', token: 't', claims: { sub: 'alice' } };

      expect(guard.handleRequest(null, user, undefined)).toBe(user);
    });

    it.each<[string, () => unknown, string]>([
      ['no bearer token', () => new Error('No auth token'), AUTH_DETAILS.missing],
      ['a token that is not a JWT', () => verifyError('not-a-jwt'), AUTH_DETAILS.malformed],
      ['a JWT with undecodable parts', () => verifyError('abc.def.ghi'), AUTH_DETAILS.malformed],
      ['a wrong signature', () => verifyError(sign({ sub: 'a' }, 'another-secret')), AUTH_DETAILS.badSignature],
      [
        'an HS token checked against a public key',
        () => verifyError(sign({ sub: 'a' }), publicPem),
        AUTH_DETAILS.unsupportedAlgorithm,
      ],
      [
        'an algorithm outside the pinned list',
        () => verifyError(jsonwebtoken.sign({ sub: 'a' }, SECRET, { algorithm: 'HS512' })),
        AUTH_DETAILS.unsupportedAlgorithm,
      ],
      [
        'a signed token without a signature',
        () => verifyError(`${sign({ sub: 'a' }).split('.').slice(0, 2).join('.')}.`),
        AUTH_DETAILS.unsigned,
      ],
      [
        'a wrong issuer',
        () => verifyError(sign({ iss: 'evil' }), SECRET, { issuer: 'good' }),
        AUTH_DETAILS.wrongIssuer,
      ],
      [
        'a wrong audience',
        () => verifyError(sign({ aud: 'other' }), SECRET, { audience: 'chat' }),
        AUTH_DETAILS.wrongAudience,
      ],
      ['a non-numeric exp', () => verifyError(signRaw({ exp: 'soon' })), AUTH_DETAILS.badTimeClaim],
      ['an unknown kid', () => new TokenRejectedError('unknown_key'), AUTH_DETAILS.unknownKey],
      ['an MCP server token (typ)', () => new TokenRejectedError('wrong_token_type'), AUTH_DETAILS.wrongTokenType],
      ['an MCP server token (aud)', () => new TokenRejectedError('mcp_audience'), AUTH_DETAILS.mcpAudience],
      ['a crit header', () => new TokenRejectedError('critical_header'), AUTH_DETAILS.criticalHeader],
      ['an infinite exp', () => new TokenRejectedError('bad_time_claim'), AUTH_DETAILS.badTimeClaim],
      ['our own alg none refusal', () => new TokenRejectedError('unsigned'), AUTH_DETAILS.unsigned],
      ['an unknown failure', () => new Error('internal: stack and secrets'), AUTH_DETAILS.invalid],
      ['no reason at all', () => undefined, AUTH_DETAILS.invalid],
    ])('answers 401 with a clear detail for %s', (_case, info, detail) => {
      const error = rejection(guard, null, info());

      expect(error).toBeInstanceOf(AppError);
      expect(error.code).toBe('unauthorized');
      expect(error.detail).toBe(detail);
    });

    it('says when an expired token expired', () => {
      const exp = now() - 120;

      const error = rejection(guard, null, verifyError(sign({ sub: 'a', exp })));

      expect(error.code).toBe('unauthorized');
      expect(error.detail).toBe(`The token has expired (exp: ${new Date(exp * 1000).toISOString()}): get a new token`);
    });

    it('says from when a not-yet-valid token is valid', () => {
      const nbf = now() + 120;

      const error = rejection(guard, null, verifyError(sign({ sub: 'a', nbf })));

      expect(error.code).toBe('unauthorized');
      expect(error.detail).toBe(
        `The token is not valid yet (nbf: ${new Date(nbf * 1000).toISOString()}): check the issuer's clock`,
      );
    });

    it.each([
      ['missing_exp', AUTH_DETAILS.missingExp],
      ['invalid_sub', AUTH_DETAILS.invalidSub],
      ['malformed', AUTH_DETAILS.malformed],
    ] as const)('answers 401 when the claim check rejects the token (%s)', (reason, detail) => {
      const error = rejection(guard, new TokenRejectedError(reason), undefined);

      expect(error.code).toBe('unauthorized');
      expect(error.detail).toBe(detail);
    });

    it('passes an unexpected error through so the filter logs it as a 500', () => {
      const bug = new TypeError('cannot read properties of undefined');

      expect(rejection(guard, bug, undefined)).toBe(bug);
    });

    it.each([
      [
        'unreachable',
        () => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { isEndpointUnavailable: true }),
      ],
      ['empty', () => new JwksError('The JWKS endpoint did not contain any keys')],
    ])('does not blame the client when the JWKS is %s', (_case, info) => {
      const error = rejection(guard, null, info());

      expect(error.code).toBe('auth_unavailable');
      expect(error.detail).toBe(AUTH_DETAILS.keysUnavailable);
    });
  });

  describe('canActivate', () => {
    class Routes {
      @Public()
      open(): void {}
    }

    it('lets a @Public() route through without a token', () => {
      const context = {
        getHandler: () => Routes.prototype.open,
        getClass: () => Routes,
      } as unknown as ExecutionContext;

      expect(guard.canActivate(context)).toBe(true);
    });
  });
});
