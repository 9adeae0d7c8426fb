import { Module } from '@nestjs/common';
import { JwtSecret, jwtSecretProvider } from './jwt-secret';

/** One JwtSecret for the JwtModule and the auth providers alike: the development secret file is read once. */
@Module({ providers: [jwtSecretProvider], exports: [JwtSecret] })
export class JwtSecretModule {}
