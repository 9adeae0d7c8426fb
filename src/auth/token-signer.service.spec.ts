import { JwtService } from '@nestjs/jwt';
import jsonwebtoken, { type JwtPayload } from 'jsonwebtoken';
import { loadConfig } from '../config/app-config';
import { createJwtModuleOptions } from './jwt-module-options';
import { TokenSigner } from './token-signer.service';

const SECRET = 'unit-test-secret-that-is-long-enough-0123456789';

function signerFor(env: Record<string, string>): TokenSigner {
  const config = loadConfig({ NODE_ENV: 'test', ...env });
  return new TokenSigner(config, new JwtService(createJwtModuleOptions(config)));
}

describe(TokenSigner.name, () => {
  it('signs a short-lived HS256 token carrying the configured issuer and audience', () => {
    const token = signerFor({ JWT_SECRET: SECRET, JWT_ISSUER: 'chat', JWT_AUDIENCE: 'chat-api' }).sign('alice');

    const { header, payload } = jsonwebtoken.verify(token, SECRET, { algorithms: ['HS256'], complete: true });
    const claims = payload as JwtPayload;
    expect(header.alg).toBe('HS256');
    expect(claims).toMatchObject({ sub: 'alice', iss: 'chat', aud: 'chat-api' });
    expect(claims.exp! - claims.iat!).toBe(300);
  });

  it('signs a per-MCP-server token with the server as audience and the ttl asked for', () => {
    const token = signerFor({ JWT_SECRET: SECRET }).sign('alice', { audience: 'tasks', ttlSeconds: 60 });

    const claims = jsonwebtoken.verify(token, SECRET, { algorithms: ['HS256'] }) as JwtPayload;
    expect(claims).toMatchObject({ sub: 'alice', aud: 'tasks' });
    expect(claims.exp! - claims.iat!).toBe(60);
    expect(claims.iss).toBeUndefined();
  });

  it('refuses clearly when only a JWKS is configured', () => {
    const signer = signerFor({ JWT_JWKS_URL: 'https://idp.example/.well-known/jwks.json' });

    expect(() => signer.sign('alice')).toThrow(/only JWT_JWKS_URL is configured.*no private key/);
  });

  it.each([
    ['an empty user id', '', {}],
    ['a non-positive ttl', 'alice', { ttlSeconds: 0 }],
  ])('refuses %s', (_case, userId, options) => {
    expect(() => signerFor({ JWT_SECRET: SECRET }).sign(userId, options)).toThrow();
  });
});
