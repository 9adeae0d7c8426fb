import type { JwtModuleOptions } from '@nestjs/jwt';
import type { JwtSecret } from './jwt-secret';

/** How this service signs its own tokens; shared by AuthModule and `npm run token`. */
export function createJwtModuleOptions(secret: JwtSecret): JwtModuleOptions {
  return { secret: secret.value, signOptions: { algorithm: 'HS256' } };
}
