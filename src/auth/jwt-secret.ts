import type { Provider } from '@nestjs/common';
import { AppConfig, ConfigError } from '../config/app-config';
import { readDevSecret, readOrCreateDevSecret } from './dev-jwt-secret-file';

const MIN_PRODUCTION_SECRET_LENGTH = 32;
const PLACEHOLDER_SECRETS = /^(change[-_ ]?me|changeit|secret|placeholder|your[-_ ]?secret.*|test|dev|xxx+|\.\.\.)$/i;

/** The HS256 secret this service signs and verifies with; none when a JWKS verifies tokens. */
export class JwtSecret {
  constructor(readonly value: string | undefined) {}
}

/** Only the server creates the development secret, so `npm run token` never signs with one it lacks. */
export type DevSecretMode = 'create' | 'read';

export function resolveJwtSecret(config: AppConfig, devSecret: DevSecretMode): JwtSecret {
  const { secret, jwksUrl } = config.jwt;
  const production = config.nodeEnv === 'production';
  if (secret && jwksUrl) {
    throw new ConfigError(['JWT_SECRET, JWT_JWKS_URL: set one of them, not both']);
  }
  if (jwksUrl) return new JwtSecret(undefined);
  if (secret) {
    if (production && (PLACEHOLDER_SECRETS.test(secret) || secret.length < MIN_PRODUCTION_SECRET_LENGTH)) {
      throw new ConfigError([
        `JWT_SECRET: a placeholder or a secret shorter than ${MIN_PRODUCTION_SECRET_LENGTH} characters is refused in production`,
      ]);
    }
    return new JwtSecret(secret);
  }
  if (production) {
    throw new ConfigError(['JWT_SECRET or JWT_JWKS_URL: one of them is required in production']);
  }
  return new JwtSecret(devSecret === 'create' ? readOrCreateDevSecret(config.dataDir) : readDevSecret(config.dataDir));
}

/** Resolved once at boot, before the server listens: a refused secret stops it with a ConfigError. */
export const jwtSecretProvider: Provider = {
  provide: JwtSecret,
  inject: [AppConfig],
  useFactory: (config: AppConfig) => resolveJwtSecret(config, 'create'),
};
