import { SERVICE_IDENTITY } from '../common/identity/service-identity';
import { MAX_SUBJECT_LENGTH } from './auth-failure';
import { isUserSubject } from './subject';

export const TOKEN_USAGE = 'Usage: npm run token -- <user_id> [--ttl <n>[s|m|h|d]]   (default ttl 1h, at most 7d)';

const DEFAULT_TTL_SECONDS = 3600;
const MAX_TTL_SECONDS = 7 * 24 * 3600;
const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

export type TokenArgs = { help: true } | { help: false; userId: string; ttlSeconds: number };

export class TokenArgsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TokenArgsError';
  }
}

/** Parses `npm run token` arguments; a bad one throws {@link TokenArgsError} with a message for the user. */
export function parseTokenArgs(argv: readonly string[]): TokenArgs {
  const positional: string[] = [];
  let ttlSeconds = DEFAULT_TTL_SECONDS;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '-h' || arg === '--help') return { help: true };
    if (arg === '--ttl' || arg.startsWith('--ttl=')) {
      const value = arg === '--ttl' ? argv[++i] : arg.slice('--ttl='.length);
      ttlSeconds = parseTtl(value);
    } else if (arg.startsWith('-')) {
      throw new TokenArgsError(`Unknown option ${arg}`);
    } else {
      positional.push(arg);
    }
  }
  if (positional.length === 0) throw new TokenArgsError('Missing <user_id>: the token subject (sub)');
  if (positional.length > 1) throw new TokenArgsError(`Expected one <user_id>, got ${positional.length}`);
  const userId = positional[0];
  if (userId === SERVICE_IDENTITY)
    throw new TokenArgsError(`<user_id> ${SERVICE_IDENTITY} is reserved for the service itself`);
  if (!isUserSubject(userId)) {
    throw new TokenArgsError(
      `<user_id> must be 1..${MAX_SUBJECT_LENGTH} characters in Unicode NFC, without surrounding whitespace or control characters`,
    );
  }
  return { help: false, userId, ttlSeconds };
}

function parseTtl(value: string | undefined): number {
  const match = value === undefined ? null : /^(\d{1,9})([smhd]?)$/.exec(value);
  if (!match) throw new TokenArgsError(`Bad --ttl ${value ?? '(missing)'}: use a number with s, m, h or d, e.g. 30m`);
  const seconds = Number(match[1]) * UNIT_SECONDS[match[2] || 's'];
  if (seconds < 1 || seconds > MAX_TTL_SECONDS) {
    throw new TokenArgsError(`Bad --ttl ${value}: between 1s and 7d`);
  }
  return seconds;
}
