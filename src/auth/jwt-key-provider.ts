import type { Algorithm } from 'jsonwebtoken';
import { createSecretKey } from 'node:crypto';
import { passportJwtSecret } from 'jwks-rsa';
import type { SecretOrKeyProvider } from 'passport-jwt';
import type { AppConfig } from '../config/app-config';
import { TokenRejectedError } from './auth-failure';

type JwtConfig = AppConfig['jwt'];

const HMAC_ALGORITHMS: Algorithm[] = ['HS256'];
/**
 * SPEC §2 also names EdDSA, but passport-jwt verifies with jsonwebtoken 9, which cannot verify
 * EdDSA (auth0/node-jsonwebtoken#987): such tokens get "algorithm not accepted" until the verifier changes.
 */
const JWKS_ALGORITHMS: Algorithm[] = ['RS256', 'ES256'];

const JWKS_CACHE_MAX_AGE_MS = 10 * 60_000;
const JWKS_REQUESTS_PER_MINUTE = 10;
const JWKS_TIMEOUT_MS = 5_000;

/** A configured JWKS wins: then no HS algorithm is accepted, so a public key can never serve as an HMAC secret. */
export function acceptedAlgorithms(jwt: JwtConfig): Algorithm[] {
  return jwt.jwksUrl ? JWKS_ALGORITHMS : HMAC_ALGORITHMS;
}

/**
 * Supplies the verification key, after refusing a token whose `alg` is not pinned: the client gets a
 * precise reason, and a JWKS fetch is never spent on a token that cannot pass.
 */
export function createKeyProvider(jwt: JwtConfig): SecretOrKeyProvider<unknown> {
  const algorithms: string[] = acceptedAlgorithms(jwt);
  const lookUpKey = keyLookup(jwt);
  return (request, rawJwtToken: string, done) => {
    const alg = readAlgorithm(rawJwtToken);
    if (alg === 'none') return done(new TokenRejectedError('unsigned'));
    if (alg !== undefined && !algorithms.includes(alg)) return done(new TokenRejectedError('unsupported_algorithm'));
    lookUpKey(request, rawJwtToken, done);
  };
}

function keyLookup(jwt: JwtConfig): SecretOrKeyProvider<unknown> {
  if (jwt.jwksUrl) {
    return passportJwtSecret({
      jwksUri: jwt.jwksUrl,
      cache: true,
      cacheMaxAge: JWKS_CACHE_MAX_AGE_MS,
      rateLimit: true,
      jwksRequestsPerMinute: JWKS_REQUESTS_PER_MINUTE,
      timeout: JWKS_TIMEOUT_MS,
      // The default turns an unknown kid into "no key"; pass it on so the client is told why.
      handleSigningKeyError: (err, cb) => cb(err),
    });
  }
  if (!jwt.secret) throw new Error('JWT verification needs JWT_SECRET or JWT_JWKS_URL');
  // A KeyObject, built once: given a string, jsonwebtoken first tries it as a PEM public key on every
  // verify (~0.7 ms of CPU each, most of a simple request's cost) before using it as a secret.
  // passport-jwt hands the key to jsonwebtoken untouched; its typings predate KeyObject support.
  const secret = createSecretKey(Buffer.from(jwt.secret, 'utf8')) as unknown as string;
  return (_request, _rawJwtToken, done) => done(null, secret);
}

/** The header's `alg`, or undefined when the token cannot be decoded (jsonwebtoken then reports it malformed). */
function readAlgorithm(token: string): string | undefined {
  try {
    const header: unknown = JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString('utf8'));
    if (typeof header === 'object' && header !== null && 'alg' in header && typeof header.alg === 'string') {
      return header.alg;
    }
  } catch {
    // Not JSON: left to jsonwebtoken.
  }
  return undefined;
}
