import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const DEV_SECRET_FILE = 'jwt-secret';

/** Where the development secret lives: `npm run token` names it when it finds none. */
export function devSecretPath(dataDir: string): string {
  return join(dataDir, DEV_SECRET_FILE);
}

export function readDevSecret(dataDir: string): string | undefined {
  const file = devSecretPath(dataDir);
  return existsSync(file) ? readFileSync(file, 'utf8').trim() || undefined : undefined;
}

/** Development only: a random secret kept in DATA_DIR so `npm run token` and the server agree. */
export function readOrCreateDevSecret(dataDir: string): string {
  const existing = readDevSecret(dataDir);
  if (existing !== undefined) return existing;
  const file = devSecretPath(dataDir);
  mkdirSync(dataDir, { recursive: true });
  const secret = randomBytes(48).toString('base64url');
  writeFileSync(file, `${secret}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return secret;
}
