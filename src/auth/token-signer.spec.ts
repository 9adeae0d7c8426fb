import { JwtService } from '@nestjs/jwt';
import jsonwebtoken, { type JwtPayload } from 'jsonwebtoken';
import { loadConfig } from '../config/app-config';
import { createJwtModuleOptions } from './jwt-module-options';
import { resolveJwtSecret } from './jwt-secret';
import { MCP_TOKEN_TYPE, deriveMcpTokenSecret } from './mcp-token-key';
import { TokenSigner } from './token-signer';

const SECRET = 'unit-test-secret-that-is-long-enough-0123456789';

function signerFor(env: Record<string, string>): TokenSigner {
  const config = loadConfig({ NODE_ENV: 'test', ...env });
  const secret = resolveJwtSecret(config, 'create');
  return new TokenSigner(config, secret, new JwtService(createJwtModuleOptions(secret)));
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

  it('signs an MCP server token with the derived key, typ mcp-user+jwt, the server as audience and the ttl asked for', () => {
    const token = signerFor({ JWT_SECRET: SECRET, JWT_AUDIENCE: 'chat-api' }).signForMcpServer('alice', 'tasks', 60);

    const { header, payload } = jsonwebtoken.verify(token, deriveMcpTokenSecret(SECRET), {
      algorithms: ['HS256'],
      complete: true,
    });
    const claims = payload as JwtPayload;
    expect(header.typ).toBe(MCP_TOKEN_TYPE);
    expect(claims).toMatchObject({ sub: 'alice', aud: 'tasks' });
    expect(claims.exp! - claims.iat!).toBe(60);
    expect(claims.iss).toBeUndefined();
    expect(() => jsonwebtoken.verify(token, SECRET, { algorithms: ['HS256'] })).toThrow('invalid signature');
  });

  it('signs an MCP server token for the service identity, which user tokens refuse', () => {
    const signer = signerFor({ JWT_SECRET: SECRET });

    expect(jsonwebtoken.decode(signer.signForMcpServer('chat-service', 'tasks', 60))).toMatchObject({
      sub: 'chat-service',
    });
    expect(() => signer.sign('chat-service')).toThrow(/reserved for the service itself/);
  });

  it('refuses clearly when only a JWKS is configured', () => {
    const signer = signerFor({ JWT_JWKS_URL: 'https://idp.example/.well-known/jwks.json' });

    expect(() => signer.sign('alice')).toThrow(/only JWT_JWKS_URL is configured.*no private key/);
  });

  it.each([
    ['an empty user id', '', {}],
    ['a user id with surrounding whitespace', ' alice', {}],
    ['a user id that is not NFC', 'jose\u0301', {}],
    ['a non-positive ttl', 'alice', { ttlSeconds: 0 }],
  ])('refuses %s', (_case, userId, options) => {
    expect(() => signerFor({ JWT_SECRET: SECRET }).sign(userId, options)).toThrow();
  });
});
