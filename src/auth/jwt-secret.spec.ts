import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '../config/app-config';
import { devSecretPath } from './dev-jwt-secret-file';
import { resolveJwtSecret } from './jwt-secret';

describe(resolveJwtSecret.name, () => {
  let dataDir: string;
  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'jwt-secret-'));
  });
  afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

  const resolveFor = (env: Record<string, string>, mode: 'create' | 'read' = 'create') =>
    resolveJwtSecret(loadConfig({ DATA_DIR: dataDir, ...env }), mode);

  it('refuses a placeholder JWT_SECRET in production, naming the key', () => {
    expect(() => resolveFor({ NODE_ENV: 'production', JWT_SECRET: 'changeme' })).toThrow(
      new ConfigError(['JWT_SECRET: a placeholder or a secret shorter than 32 characters is refused in production']),
    );
  });

  it('refuses JWT_SECRET and JWT_JWKS_URL together', () => {
    expect(() => resolveFor({ JWT_SECRET: 'x'.repeat(40), JWT_JWKS_URL: 'https://idp.example.com/jwks' })).toThrow(
      new ConfigError(['JWT_SECRET, JWT_JWKS_URL: set one of them, not both']),
    );
  });

  it('requires a secret or a JWKS in production', () => {
    expect(() => resolveFor({ NODE_ENV: 'production' })).toThrow(
      new ConfigError(['JWT_SECRET or JWT_JWKS_URL: one of them is required in production']),
    );
  });

  it('holds no secret when a JWKS verifies tokens', () => {
    expect(resolveFor({ JWT_JWKS_URL: 'https://idp.example.com/jwks' }).value).toBeUndefined();
  });

  it('creates the development secret once in DATA_DIR, and only reads it in read mode', () => {
    expect(resolveFor({ NODE_ENV: 'development' }, 'read').value).toBeUndefined();
    expect(existsSync(devSecretPath(dataDir))).toBe(false);

    const created = resolveFor({ NODE_ENV: 'development' }).value;

    expect(created).toMatch(/^[\w-]{64}$/);
    expect(resolveFor({ NODE_ENV: 'development' }, 'read').value).toBe(created);
  });

  it('leaves loading the configuration free of file I/O', () => {
    loadConfig({ NODE_ENV: 'development', DATA_DIR: dataDir });

    expect(existsSync(devSecretPath(dataDir))).toBe(false);
  });
});
