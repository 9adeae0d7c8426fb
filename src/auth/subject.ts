import { SERVICE_IDENTITY } from '../common/identity/service-identity';
import { MAX_SUBJECT_LENGTH } from './auth-failure';

// Control characters, and whitespace at either end (JS \s covers Unicode spaces and the BOM).
const CONTROL_OR_EDGE_SPACE = /\p{Cc}|^\s|\s$/u;

/** Header-based MCP servers trim and normalise ids: two ids differing only there would be one user. */
export function isWellFormedSubject(sub: string): boolean {
  return (
    sub.length > 0 &&
    sub.length <= MAX_SUBJECT_LENGTH &&
    sub.isWellFormed() &&
    !CONTROL_OR_EDGE_SPACE.test(sub) &&
    sub.normalize('NFC') === sub
  );
}

/** Who may hold a token for this service: a well-formed id that is not the service's own identity. */
export function isUserSubject(sub: unknown): sub is string {
  return typeof sub === 'string' && isWellFormedSubject(sub) && sub !== SERVICE_IDENTITY;
}
