/**
 * `npm run token -- <user_id> [--ttl 1h]`: prints a token the local service accepts, signed with
 * JWT_SECRET or the development secret the server keeps in DATA_DIR. No Nest application is started.
 */
import { JwtService } from '@nestjs/jwt';
import { createJwtModuleOptions } from '../src/auth/jwt-module-options';
import { TOKEN_USAGE, TokenArgsError, parseTokenArgs } from '../src/auth/token-args.parser';
import { TokenSigner } from '../src/auth/token-signer.service';
import { loadConfig } from '../src/config/app-config';

function run(argv: readonly string[]): number {
  try {
    const args = parseTokenArgs(argv);
    if (args.help) {
      process.stdout.write(`${TOKEN_USAGE}\n`);
      return 0;
    }
    const config = loadConfig(process.env);
    const signer = new TokenSigner(config, new JwtService(createJwtModuleOptions(config)));
    process.stdout.write(`${signer.sign(args.userId, { ttlSeconds: args.ttlSeconds })}\n`);
    return 0;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(error instanceof TokenArgsError ? `${message}\n${TOKEN_USAGE}\n` : `${message}\n`);
    return error instanceof TokenArgsError ? 2 : 1;
  }
}

process.exitCode = run(process.argv.slice(2));
