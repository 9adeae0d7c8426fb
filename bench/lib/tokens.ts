import { randomBytes } from 'node:crypto';
import { sign } from 'jsonwebtoken';

/** A production-grade HS256 secret for this run (the service refuses short ones with NODE_ENV=production). */
export function newSecret(): string {
  return randomBytes(48).toString('base64url');
}

/** A token the service and the baseline both accept: HS256, `sub` = the user, valid for the whole run. */
export function signToken(secret: string, userId: string): string {
  return sign({ sub: userId }, secret, { algorithm: 'HS256', expiresIn: '12h' });
}

export interface BenchUser {
  userId: string;
  authorization: string;
}

export function benchUsers(secret: string, prefix: string, count: number): BenchUser[] {
  return Array.from({ length: count }, (_, i) => {
    const userId = `${prefix}-${i + 1}`;
    return { userId, authorization: `Bearer ${signToken(secret, userId)}` };
  });
}
