import { Injectable } from '@nestjs/common';
import { JwtService, type JwtSignOptions } from '@nestjs/jwt';
import { AppConfig } from '../config/app-config';
import { MAX_SUBJECT_LENGTH } from './auth-failure';

export const DEFAULT_TOKEN_TTL_SECONDS = 300;

export interface SignTokenOptions {
  /** Defaults to the configured JWT_AUDIENCE; per-MCP-server tokens use the server's name. */
  audience?: string;
  ttlSeconds?: number;
}

/** Signs short-lived HS256 tokens with the configured secret, carrying the `iss`/`aud` this service checks. */
@Injectable()
export class TokenSigner {
  constructor(
    private readonly config: AppConfig,
    private readonly jwtService: JwtService,
  ) {}

  sign(userId: string, options: SignTokenOptions = {}): string {
    const { secret, issuer, audience } = this.config.jwt;
    if (!secret) {
      throw new Error(
        'Cannot sign tokens: only JWT_JWKS_URL is configured and this service holds no private key; ' +
          'get tokens from the identity provider, or set JWT_SECRET instead',
      );
    }
    if (userId.length === 0 || userId.length > MAX_SUBJECT_LENGTH) {
      throw new Error(`A user id must be 1..${MAX_SUBJECT_LENGTH} characters`);
    }
    const ttlSeconds = options.ttlSeconds ?? DEFAULT_TOKEN_TTL_SECONDS;
    if (!Number.isInteger(ttlSeconds) || ttlSeconds <= 0) throw new Error('A token ttl must be a positive integer');

    // jsonwebtoken rejects an option set to undefined, so absent claims are left out entirely.
    const signOptions: JwtSignOptions = { expiresIn: ttlSeconds };
    const tokenAudience = options.audience ?? audience;
    if (tokenAudience) signOptions.audience = tokenAudience;
    if (issuer) signOptions.issuer = issuer;
    return this.jwtService.sign({ sub: userId }, signOptions);
  }
}
