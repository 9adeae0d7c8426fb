import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const ROOT = join(__dirname, '..', '..');
const started = new Set<ChildProcess>();

/** Kills every server process a test started and left running (call it in afterEach). */
export function killServerProcesses(): void {
  for (const child of started) child.kill('SIGKILL');
  started.clear();
}
const BOOT_TIMEOUT_MS = 30_000;

export interface ServerProcess {
  url: string;
  pid: number;
  /** Resolves with the exit code (or the signal that killed it). */
  exited: Promise<number | NodeJS.Signals>;
  /** Every log line the server printed, parsed. */
  logs: Record<string, unknown>[];
  kill(signal: NodeJS.Signals): void;
}

/**
 * The service as its own process (`src/main.ts`, compiled on load), for what only a real process
 * shows: signals, exit codes, a replica dying mid-turn.
 */
export async function startServerProcess(env: Record<string, string>): Promise<ServerProcess> {
  const child: ChildProcess = spawn(process.execPath, ['-r', './test/support/register-ts.cjs', 'src/main.ts'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, PORT: '0', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  started.add(child);
  child.once('exit', () => started.delete(child));
  const logs: Record<string, unknown>[] = [];
  const stderr: string[] = [];
  child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk.toString()));
  const exited = new Promise<number | NodeJS.Signals>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)),
  );
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start: ${stderr.join('')}`)), BOOT_TIMEOUT_MS);
    void exited.then((code) => reject(new Error(`server exited (${code}) before listening: ${stderr.join('')}`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const entry = parseLine(line);
      logs.push(entry);
      if (typeof entry.url === 'string' && String(entry.msg).startsWith('listening on')) {
        clearTimeout(timer);
        resolve(entry.url);
      }
    });
  });
  return { url, pid: child.pid!, exited, logs, kill: (signal) => child.kill(signal) };
}

function parseLine(line: string): Record<string, unknown> {
  try {
    return JSON.parse(line) as Record<string, unknown>;
  } catch {
    return { msg: line };
  }
}
