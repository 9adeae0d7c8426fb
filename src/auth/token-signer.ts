import { Injectable } from '@nestjs/common';
import { JwtService, type JwtSignOptions } from '@nestjs/jwt';
import { SERVICE_IDENTITY } from '../common/identity/service-identity';
import { AppConfig } from '../config/app-config';
import { MAX_SUBJECT_LENGTH } from './auth-failure';
import { JwtSecret } from './jwt-secret';
import { MCP_TOKEN_TYPE, deriveMcpTokenSecret } from './mcp-token-key';
import { isUserSubject, isWellFormedSubject } from './subject';

export const DEFAULT_TOKEN_TTL_SECONDS = 300;

export interface SignTokenOptions {
  ttlSeconds?: number;
}

@Injectable()
export class TokenSigner {
  constructor(
    private readonly config: AppConfig,
    private readonly jwtSecret: JwtSecret,
    private readonly jwtService: JwtService,
  ) {}

  /** False when only a JWKS is configured: this service then holds no key to sign with. */
  canSign(): boolean {
    return this.jwtSecret.value !== undefined;
  }

  sign(userId: string, options: SignTokenOptions = {}): string {
    if (!isUserSubject(userId)) throw new Error(invalidUserIdMessage(userId));
    const signOptions = this.baseOptions(this.secret(), options.ttlSeconds);
    if (this.config.jwt.audience) signOptions.audience = this.config.jwt.audience;
    return this.jwtService.sign({ sub: userId }, signOptions);
  }

  /** Derived key and {@link MCP_TOKEN_TYPE}, so this service never accepts it back; `userId` may be the service. */
  signForMcpServer(userId: string, server: string, ttlSeconds: number): string {
    if (!isWellFormedSubject(userId)) throw new Error(invalidUserIdMessage(userId));
    const signOptions = this.baseOptions(deriveMcpTokenSecret(this.secret()), ttlSeconds);
    signOptions.audience = server;
    signOptions.header = { alg: 'HS256', typ: MCP_TOKEN_TYPE };
    return this.jwtService.sign({ sub: userId }, signOptions);
  }

  private baseOptions(secret: string, ttlSeconds = DEFAULT_TOKEN_TTL_SECONDS): JwtSignOptions {
    if (!Number.isInteger(ttlSeconds) || ttlSeconds <= 0) throw new Error('A token ttl must be a positive integer');
    // jsonwebtoken rejects an option set to undefined, so absent claims are left out entirely.
    const signOptions: JwtSignOptions = { secret, algorithm: 'HS256', expiresIn: ttlSeconds };
    if (this.config.jwt.issuer) signOptions.issuer = this.config.jwt.issuer;
    return signOptions;
  }

  private secret(): string {
    const secret = this.jwtSecret.value;
    if (!secret) {
      throw new Error(
        'Cannot sign tokens: only JWT_JWKS_URL is configured and this service holds no private key; ' +
          'get tokens from the identity provider, or set JWT_SECRET instead',
      );
    }
    return secret;
  }
}

function invalidUserIdMessage(userId: string): string {
  return userId === SERVICE_IDENTITY
    ? `The user id ${SERVICE_IDENTITY} is reserved for the service itself`
    : `A user id must be 1..${MAX_SUBJECT_LENGTH} characters in Unicode NFC, without surrounding whitespace or control characters`;
}
