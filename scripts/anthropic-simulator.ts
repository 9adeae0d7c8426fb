import { AnthropicSimulator } from '../test/support/anthropic-simulator';

/** Runs the Anthropic simulator standalone with its echo reply, for `npm run demo` and benchmarks. */

function intFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  const value = raw === undefined || raw === '' ? fallback : Number(raw);
  if (!Number.isInteger(value) || value < 0) throw new Error(`${name} must be a non-negative integer, got "${raw}"`);
  return value;
}

async function main(): Promise<void> {
  const port = intFromEnv('SIM_PORT', 4010);
  const delayMs = intFromEnv('SIM_DELAY_MS', 0);
  const sim = await AnthropicSimulator.start({ port, delayMs });
  console.log(`Anthropic simulator listening on ${sim.url} (delay ${delayMs} ms)`);
  const stop = (): void => void sim.close().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
