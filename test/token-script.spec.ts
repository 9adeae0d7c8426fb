import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import jwt from 'jsonwebtoken';

const SCRIPT = join(__dirname, '../scripts/token.ts');
const REGISTER_TS = join(__dirname, 'support/register-ts.cjs');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** `npm run token -- <args>` as a user runs it, from source, with only the given environment. */
function runTokenScript(args: string[], env: Record<string, string>): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['-r', REGISTER_TS, SCRIPT, ...args],
      { env: { PATH: process.env.PATH ?? '', ...env }, timeout: 20_000 },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe('npm run token', () => {
  let dataDir: string;
  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'token-script-'));
  });
  afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

  it('refuses to sign when there is no JWT_SECRET and no dev secret, says where it looked, and creates none', async () => {
    const run = await runTokenScript(['alice'], { NODE_ENV: 'development', DATA_DIR: dataDir });

    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain(join(dataDir, 'jwt-secret'));
    expect(run.stderr).toContain('JWT_SECRET');
    expect(run.stderr).toMatch(/first boot/);
    expect(existsSync(join(dataDir, 'jwt-secret'))).toBe(false);
  });

  it('signs with the dev secret the server created in DATA_DIR', async () => {
    const secret = 'dev-secret-the-server-wrote-at-its-first-boot-0123456789';
    writeFileSync(join(dataDir, 'jwt-secret'), `${secret}\n`);

    const run = await runTokenScript(['alice'], { NODE_ENV: 'development', DATA_DIR: dataDir });

    expect(run.code).toBe(0);
    expect(jwt.verify(run.stdout.trim(), secret, { algorithms: ['HS256'] })).toMatchObject({ sub: 'alice' });
  });

  it('signs with JWT_SECRET when it is set', async () => {
    const secret = 'configured-secret-that-is-long-enough-0123456789';

    const run = await runTokenScript(['bob', '--ttl', '5m'], { JWT_SECRET: secret, DATA_DIR: dataDir });

    expect(run.code).toBe(0);
    const claims = jwt.verify(run.stdout.trim(), secret, { algorithms: ['HS256'] }) as jwt.JwtPayload;
    expect(claims).toMatchObject({ sub: 'bob' });
    expect((claims.exp ?? 0) - (claims.iat ?? 0)).toBe(300);
  });

  it.each([
    ['the service identity', 'chat-service'],
    ['surrounding whitespace', ' alice'],
  ])('refuses to sign for a user id with %s, which the server would refuse', async (_case, userId) => {
    const run = await runTokenScript([userId], { JWT_SECRET: 'configured-secret-that-is-long-enough-0123456789' });

    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
  });
});
