import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import type { JwtPayload } from 'jsonwebtoken';
import { ExtractJwt, Strategy, type StrategyOptions } from 'passport-jwt';
import { AppConfig } from '../config/app-config';
import { TokenRejectedError } from './auth-failure';
import type { AuthRequest, AuthUser } from './auth-user';
import { acceptedAlgorithms, createKeyProvider } from './jwt-key-provider';
import { JwtSecret } from './jwt-secret';
import { mcpServerAudiences } from './mcp-server-audiences';
import { isUserSubject } from './subject';

export const JWT_STRATEGY = 'jwt';

type JwtStrategyOptions = Extract<StrategyOptions, { passReqToCallback: true }>;

/** The header only: a token in a query string or body ends up in logs and browser history. */
const bearerToken = ExtractJwt.fromAuthHeaderAsBearerToken();

function buildJwtStrategyOptions(jwt: AppConfig['jwt'], secret: JwtSecret): JwtStrategyOptions {
  return {
    jwtFromRequest: bearerToken,
    secretOrKeyProvider: createKeyProvider(jwt, secret.value),
    passReqToCallback: true,
    // Top-level only: passport-jwt overwrites these in jsonWebTokenOptions, and without `algorithms`
    // jsonwebtoken accepts every algorithm the key type allows.
    algorithms: acceptedAlgorithms(jwt),
    issuer: jwt.issuer,
    audience: jwt.audience,
    ignoreExpiration: false,
    // Only options passport-jwt has no top-level name for survive in here.
    jsonWebTokenOptions: { clockTolerance: jwt.clockToleranceSeconds },
  };
}

@Injectable()
export class JwtStrategy extends PassportStrategy(Strategy, JWT_STRATEGY) {
  private readonly mcpAudiences: ReadonlySet<string>;

  constructor(config: AppConfig, secret: JwtSecret) {
    super(buildJwtStrategyOptions(config.jwt, secret));
    this.mcpAudiences = mcpServerAudiences(config.mcpConfigPath);
  }

  /** Runs after jsonwebtoken accepted the token; a throw here reaches the guard as `err`. */
  validate(request: AuthRequest, payload: unknown): AuthUser {
    if (typeof payload !== 'object' || payload === null) throw new TokenRejectedError('malformed');
    const claims = payload as JwtPayload;
    // jsonwebtoken checks exp only when present; a token that never expires is refused here.
    if (typeof claims.exp !== 'number') throw new TokenRejectedError('missing_exp');
    // Checked whatever JWT_AUDIENCE says: an MCP server must not replay the token it was given as the user.
    if (this.isForMcpServer(claims.aud)) throw new TokenRejectedError('mcp_audience');
    const { sub } = claims;
    if (!isUserSubject(sub)) throw new TokenRejectedError('invalid_sub');
    const token = bearerToken(request);
    if (!token) throw new TokenRejectedError('malformed');
    return { userId: sub, token, claims };
  }

  private isForMcpServer(aud: unknown): boolean {
    const audiences: unknown[] = Array.isArray(aud) ? aud : [aud];
    return audiences.some((audience) => typeof audience === 'string' && this.mcpAudiences.has(audience));
  }
}
