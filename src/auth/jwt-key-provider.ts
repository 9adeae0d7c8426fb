import type { Algorithm } from 'jsonwebtoken';
import { createSecretKey } from 'node:crypto';
import { JwksClient } from 'jwks-rsa';
import type { SecretOrKeyProvider } from 'passport-jwt';
import type { AppConfig } from '../config/app-config';
import { TokenRejectedError } from './auth-failure';
import { JwksKeySet } from './jwks-key-set';
import { precheckToken, tokenKid } from './token-precheck';

type JwtConfig = AppConfig['jwt'];

const HMAC_ALGORITHMS: Algorithm[] = ['HS256'];
/** No EdDSA (SPEC §2 names it): jsonwebtoken 9 cannot verify it (auth0/node-jsonwebtoken#987). */
const JWKS_ALGORITHMS: Algorithm[] = ['RS256', 'ES256'];

const JWKS_CACHE_MAX_AGE_MS = 10 * 60_000;
const JWKS_TIMEOUT_MS = 5_000;
const UNKNOWN_KID_TTL_MS = 10 * 60_000;
const MAX_UNKNOWN_KIDS = 1_000;

/** A configured JWKS wins: then no HS algorithm is accepted, so a public key can never serve as an HMAC secret. */
export function acceptedAlgorithms(jwt: JwtConfig): Algorithm[] {
  return jwt.jwksUrl ? JWKS_ALGORITHMS : HMAC_ALGORITHMS;
}

/** Prechecks first, so a JWKS fetch is never spent on a token that cannot pass. */
export function createKeyProvider(jwt: JwtConfig, hmacSecret: string | undefined): SecretOrKeyProvider<unknown> {
  const algorithms: string[] = acceptedAlgorithms(jwt);
  const lookUpKey = keyLookup(jwt, hmacSecret);
  return (request, rawJwtToken: string, done) => {
    const rejection = precheckToken(rawJwtToken, algorithms);
    if (rejection !== undefined) return done(new TokenRejectedError(rejection));
    lookUpKey(request, rawJwtToken, done);
  };
}

function keyLookup(jwt: JwtConfig, hmacSecret: string | undefined): SecretOrKeyProvider<unknown> {
  if (jwt.jwksUrl) {
    const keySet = jwksKeySet(jwt.jwksUrl, jwt.jwksMinRefetchSeconds);
    return (_request, rawJwtToken: string, done) => {
      keySet.keyFor(tokenKid(rawJwtToken)).then(
        (key) => done(null, key),
        (error: unknown) => done(error),
      );
    };
  }
  if (!hmacSecret) throw new Error('JWT verification needs JWT_SECRET or JWT_JWKS_URL');
  // A KeyObject: given a string, jsonwebtoken tries it as a PEM on every verify (~0.7 ms CPU) first.
  // passport-jwt's typings predate KeyObject support.
  const secret = createSecretKey(Buffer.from(hmacSecret, 'utf8')) as unknown as string;
  return (_request, _rawJwtToken, done) => done(null, secret);
}

/** jwks-rsa only fetches and parses here: its own cache and rate limit are per kid and shared, so made-up kids could starve a rotation. */
function jwksKeySet(jwksUri: string, minRefetchSeconds: number): JwksKeySet {
  const client = new JwksClient({ jwksUri, cache: false, rateLimit: false, timeout: JWKS_TIMEOUT_MS });
  return new JwksKeySet(
    async () => (await client.getSigningKeys()).map((key) => ({ kid: key.kid, publicKey: key.getPublicKey() })),
    {
      minRefetchMs: minRefetchSeconds * 1000,
      maxAgeMs: JWKS_CACHE_MAX_AGE_MS,
      unknownKidTtlMs: UNKNOWN_KID_TTL_MS,
      maxUnknownKids: MAX_UNKNOWN_KIDS,
    },
  );
}
