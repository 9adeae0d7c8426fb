import { AppError } from '../common/errors/app-error';

export const MAX_SUBJECT_LENGTH = 255;

export type TokenRejection =
  | 'missing_exp'
  | 'bad_time_claim'
  | 'invalid_sub'
  | 'malformed'
  | 'unsigned'
  | 'unsupported_algorithm'
  | 'wrong_token_type'
  | 'critical_header'
  | 'unknown_key'
  | 'mcp_audience';

/** A verified token this service still refuses; raised by our own checks around passport-jwt. */
export class TokenRejectedError extends Error {
  constructor(readonly reason: TokenRejection) {
    super(`token rejected: ${reason}`);
    this.name = 'TokenRejectedError';
  }
}

export const AUTH_DETAILS = {
  missing: 'Missing bearer token: send Authorization: Bearer <JWT>',
  malformed: 'Malformed bearer token: expected a signed JWT whose payload is a JSON object of claims',
  unsigned: 'Unsigned tokens (alg: none) are not accepted',
  unsupportedAlgorithm: 'The token is signed with an algorithm this service does not accept',
  badSignature: 'The token signature is invalid',
  unknownKey: 'The token is signed by a key (kid) that is not in the trusted key set',
  wrongIssuer: 'The token issuer (iss) is not accepted',
  wrongAudience: 'The token audience (aud) is not accepted',
  missingExp: 'The token has no expiry (exp): tokens must expire',
  badTimeClaim:
    'The token exp, nbf and iat claims must be finite numbers of seconds since the epoch, before year 10000',
  invalidSub:
    `The token subject (sub) must be a non-empty string of at most ${MAX_SUBJECT_LENGTH} characters in Unicode NFC, ` +
    'without surrounding whitespace, control characters or unpaired surrogates, and not the identity of the service itself',
  wrongTokenType: 'The token type (typ header) is not accepted here: send an access token (typ JWT or at+jwt)',
  criticalHeader: 'The token has a crit header naming extensions this service does not understand',
  mcpAudience: 'The token audience (aud) is an MCP server: a token issued for an MCP server is not accepted here',
  invalid: 'Invalid bearer token',
  keysUnavailable: 'The token signing keys could not be loaded; try again later',
} as const;

const REJECTION_DETAILS: Record<TokenRejection, string> = {
  missing_exp: AUTH_DETAILS.missingExp,
  bad_time_claim: AUTH_DETAILS.badTimeClaim,
  invalid_sub: AUTH_DETAILS.invalidSub,
  malformed: AUTH_DETAILS.malformed,
  unsigned: AUTH_DETAILS.unsigned,
  unsupported_algorithm: AUTH_DETAILS.unsupportedAlgorithm,
  wrong_token_type: AUTH_DETAILS.wrongTokenType,
  critical_header: AUTH_DETAILS.criticalHeader,
  unknown_key: AUTH_DETAILS.unknownKey,
  mcp_audience: AUTH_DETAILS.mcpAudience,
};

/** jsonwebtoken reports most failures as a JsonWebTokenError told apart only by its message. */
const MESSAGE_DETAILS: [RegExp, string][] = [
  [/^No auth token$/, AUTH_DETAILS.missing], // passport-jwt: no `Authorization: Bearer` header
  [/^(jwt malformed|invalid token|jwt must be provided|jwt must be a string)$/, AUTH_DETAILS.malformed],
  [/^jwt signature is required$/, AUTH_DETAILS.unsigned],
  [/^invalid signature$/, AUTH_DETAILS.badSignature],
  [/^invalid algorithm$/, AUTH_DETAILS.unsupportedAlgorithm],
  // The alg does not fit the key: an HS token checked against a public key, or the wrong curve.
  [/^(secretOrPublicKey must be|"alg" parameter)/, AUTH_DETAILS.unsupportedAlgorithm],
  // jwks-rsa hands over no key for a token whose claims it cannot decode.
  [/^secret or public key must be provided$/, AUTH_DETAILS.malformed],
  [/^jwt issuer invalid/, AUTH_DETAILS.wrongIssuer],
  [/^jwt audience invalid/, AUTH_DETAILS.wrongAudience],
  [/^invalid (exp|nbf) value$/, AUTH_DETAILS.badTimeClaim],
];

/** Only the details above reach the client, never the library's own text (docs/architecture.md#authentication). */
export function toAuthError(failure: unknown): AppError {
  if (failure instanceof AppError) return failure;
  if (isKeySetUnavailable(failure)) {
    // Not the client's fault: a 401 would send it to sign in again for nothing.
    return new AppError('auth_unavailable', AUTH_DETAILS.keysUnavailable, { cause: failure, retryAfterSeconds: 5 });
  }
  return new AppError('unauthorized', describeAuthFailure(failure));
}

function describeAuthFailure(failure: unknown): string {
  if (failure instanceof TokenRejectedError) return REJECTION_DETAILS[failure.reason];
  const error = asErrorLike(failure);
  if (!error) return AUTH_DETAILS.invalid;
  switch (error.name) {
    case 'TokenExpiredError':
      return `The token has expired (exp: ${isoDate(error.expiredAt)}): get a new token`;
    case 'NotBeforeError':
      return `The token is not valid yet (nbf: ${isoDate(error.date)}): check the issuer's clock`;
  }
  return MESSAGE_DETAILS.find(([pattern]) => pattern.test(error.message))?.[1] ?? AUTH_DETAILS.invalid;
}

interface ErrorLike {
  name: string;
  message: string;
  expiredAt?: unknown;
  date?: unknown;
  isEndpointUnavailable?: unknown;
}

/** Duck-typed: a socket error from node:http may come from another realm, where `instanceof Error` fails. */
function asErrorLike(value: unknown): ErrorLike | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { name, message } = value as Partial<ErrorLike>;
  return typeof name === 'string' && typeof message === 'string' ? (value as ErrorLike) : undefined;
}

function isKeySetUnavailable(failure: unknown): boolean {
  const error = asErrorLike(failure);
  // jwks-rsa marks fetch failures with `isEndpointUnavailable`; an empty or unusable key set is a JwksError.
  return error !== undefined && (error.name === 'JwksError' || error.isEndpointUnavailable === true);
}

function isoDate(value: unknown): string {
  return value instanceof Date && !Number.isNaN(value.getTime()) ? value.toISOString() : 'unknown';
}
