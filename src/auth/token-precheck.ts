import type { TokenRejection } from './auth-failure';

/** The access-token types accepted (RFC 7519 §5.1, RFC 9068), compared case-insensitively. */
const ACCEPTED_TYPES = new Set(['jwt', 'application/jwt', 'at+jwt', 'application/at+jwt']);
/** 9999-12-31T23:59:59Z: past it a NumericDate has no calendar date, and a token that lives that long is a bug. */
const MAX_NUMERIC_DATE = 253_402_300_799;
const TIME_CLAIMS = ['exp', 'nbf', 'iat'] as const;

/** What no key could make acceptable, refused before key lookup: docs/architecture.md#authentication. */
export function precheckToken(token: string, algorithms: readonly string[]): TokenRejection | undefined {
  const [headerPart, payloadPart] = token.split('.');
  const header = decodePart(headerPart);
  if (header === undefined) return undefined;
  if (header.alg === 'none') return 'unsigned';
  if (typeof header.alg === 'string' && !algorithms.includes(header.alg)) return 'unsupported_algorithm';
  if ('typ' in header && (typeof header.typ !== 'string' || !ACCEPTED_TYPES.has(header.typ.toLowerCase()))) {
    return 'wrong_token_type';
  }
  if ('crit' in header) return 'critical_header';
  const payload = decodePart(payloadPart);
  if (payload !== undefined && TIME_CLAIMS.some((claim) => claim in payload && !isNumericDate(payload[claim]))) {
    return 'bad_time_claim';
  }
  return undefined;
}

function isNumericDate(value: unknown): boolean {
  return typeof value === 'number' && Number.isFinite(value) && Math.abs(value) <= MAX_NUMERIC_DATE;
}

function decodePart(part: string | undefined): Record<string, unknown> | undefined {
  if (part === undefined) return undefined;
  try {
    const value: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

export function tokenKid(token: string): string | undefined {
  const kid = decodePart(token.split('.')[0])?.kid;
  return typeof kid === 'string' ? kid : undefined;
}
