import type { JwtModuleOptions } from '@nestjs/jwt';
import type { AppConfig } from '../config/app-config';

/** How this service signs its own tokens; shared by AuthModule and `npm run token`. */
export function createJwtModuleOptions(config: AppConfig): JwtModuleOptions {
  return { secret: config.jwt.secret, signOptions: { algorithm: 'HS256' } };
}
