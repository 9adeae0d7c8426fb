import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { JwtModule } from '@nestjs/jwt';
import { PassportModule } from '@nestjs/passport';
import { JwtAuthGuard } from './jwt-auth.guard';
import { createJwtModuleOptions } from './jwt-module-options';
import { JwtSecret } from './jwt-secret';
import { JwtSecretModule } from './jwt-secret.module';
import { JwtStrategy } from './jwt.strategy';
import { OwnershipGuard } from './ownership.guard';
import { TokenSigner } from './token-signer';

@Module({
  imports: [
    PassportModule,
    JwtSecretModule,
    JwtModule.registerAsync({ imports: [JwtSecretModule], inject: [JwtSecret], useFactory: createJwtModuleOptions }),
  ],
  providers: [JwtStrategy, TokenSigner, OwnershipGuard, { provide: APP_GUARD, useClass: JwtAuthGuard }],
  exports: [TokenSigner, OwnershipGuard],
})
export class AuthModule {}
