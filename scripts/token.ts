/**
 * `npm run token -- <user_id> [--ttl 1h]`: prints a token the local service accepts, signed with
 * JWT_SECRET or the development secret the server keeps in DATA_DIR. No Nest application is started,
 * and no secret is ever created here: one the server does not hold would sign tokens it refuses.
 */
import { JwtService } from '@nestjs/jwt';
import { createJwtModuleOptions } from '../src/auth/jwt-module-options';
import { TOKEN_USAGE, TokenArgsError, parseTokenArgs } from '../src/auth/token-args.parser';
import { devSecretPath } from '../src/auth/dev-jwt-secret-file';
import { resolveJwtSecret } from '../src/auth/jwt-secret';
import { TokenSigner } from '../src/auth/token-signer';
import { loadConfig, type AppConfig } from '../src/config/app-config';

function run(argv: readonly string[]): number {
  try {
    const args = parseTokenArgs(argv);
    if (args.help) {
      process.stdout.write(`${TOKEN_USAGE}\n`);
      return 0;
    }
    const config = loadConfig(process.env);
    const secret = resolveJwtSecret(config, 'read');
    if (secret.value === undefined && config.jwt.jwksUrl === undefined) throw new Error(noSecretMessage(config));
    const signer = new TokenSigner(config, secret, new JwtService(createJwtModuleOptions(secret)));
    process.stdout.write(`${signer.sign(args.userId, { ttlSeconds: args.ttlSeconds })}\n`);
    return 0;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(error instanceof TokenArgsError ? `${message}\n${TOKEN_USAGE}\n` : `${message}\n`);
    return error instanceof TokenArgsError ? 2 : 1;
  }
}

function noSecretMessage(config: AppConfig): string {
  return (
    `No secret to sign with: JWT_SECRET is not set, and there is no development secret at ${devSecretPath(config.dataDir)}. ` +
    'The server creates that file at its first boot in development: start it once (npm start) with the same ' +
    'DATA_DIR, or set JWT_SECRET to the secret the server uses.'
  );
}

process.exitCode = run(process.argv.slice(2));
