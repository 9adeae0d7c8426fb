import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { onCleanup } from './cleanup';
import { sleep, withTimeout } from './util';

const OUTPUT_TAIL_CHARS = 16_000;
const KILL_WAIT_MS = 3_000;

/** Preloaded into every measured Node process: answers memory questions over IPC (see heap-probe.ts). */
export const HEAP_PROBE = join(__dirname, 'heap-probe.js');

export interface MemoryUsage {
  heapUsed: number;
  heapTotal: number;
  rss: number;
  /** A full GC ran first. */
  collected: boolean;
}

export interface Child {
  readonly name: string;
  readonly pid: number;
  readonly process: ChildProcess;
  /** Why it is gone, or undefined while it runs. */
  exitReason(): string | undefined;
  /** The last lines it printed (stdout and stderr together). */
  outputTail(): string;
  /** Lines printed since start (a log line per request would show here). */
  lineCount(): number;
  /** `process.memoryUsage()` of the child through the heap probe, after a full GC if `gc` and allowed. */
  memory(gc?: boolean): Promise<MemoryUsage | undefined>;
  /** SIGTERM, then SIGKILL after `graceMs`. Safe to call twice. */
  stop(graceMs?: number): Promise<void>;
}

export interface StartChildOptions {
  name: string;
  script: string;
  env: Record<string, string>;
  cwd: string;
  /** Preload the heap probe (implies an IPC channel). */
  probe?: boolean;
  /** Open an IPC channel (`process.send` in the child). */
  ipc?: boolean;
  /** Extra `node` flags before the script. */
  nodeArgs?: string[];
}

/**
 * Runs `node <script>` with exactly the given environment (plus PATH and HOME), keeps the tail of its
 * output for error messages, and registers its termination as a cleanup.
 */
export function startChild(options: StartChildOptions): Child {
  const nodeArgs = [...(options.nodeArgs ?? []), ...(options.probe ? ['-r', HEAP_PROBE] : [])];
  const proc = spawn(process.execPath, [...nodeArgs, options.script], {
    cwd: options.cwd,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', ...options.env },
    stdio: options.probe || options.ipc ? ['ignore', 'pipe', 'pipe', 'ipc'] : ['ignore', 'pipe', 'pipe'],
  });
  if (proc.pid === undefined) throw new Error(`${options.name}: could not start ${options.script}`);
  let tail = '';
  let lines = 0;
  const collect = (chunk: Buffer): void => {
    const text = chunk.toString('utf8');
    for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) lines++;
    tail = (tail + text).slice(-OUTPUT_TAIL_CHARS);
  };
  proc.stdout?.on('data', collect);
  proc.stderr?.on('data', collect);
  let exit: string | undefined;
  const exited = new Promise<void>((resolve) => {
    proc.once('exit', (code, signal) => {
      exit = signal ? `killed by ${signal}` : `exited with code ${code}`;
      resolve();
    });
    proc.once('error', (error) => {
      exit = `failed: ${error.message}`;
      resolve();
    });
  });

  let memorySeq = 0;
  const pending = new Map<number, (usage: MemoryUsage) => void>();
  proc.on('message', (message: { type?: string; id?: number } & MemoryUsage) => {
    if (message?.type !== 'bench:memory' || message.id === undefined) return;
    pending.get(message.id)?.({
      heapUsed: message.heapUsed,
      heapTotal: message.heapTotal,
      rss: message.rss,
      collected: message.collected,
    });
    pending.delete(message.id);
  });

  let stopping: Promise<void> | undefined;
  const stop = (graceMs = 10_000): Promise<void> =>
    (stopping ??= (async () => {
      if (exit) return;
      proc.kill('SIGTERM');
      const gone = await Promise.race([exited.then(() => true), sleep(graceMs).then(() => false)]);
      if (!gone) {
        proc.kill('SIGKILL');
        await Promise.race([exited, sleep(KILL_WAIT_MS)]);
      }
    })());
  onCleanup(`${options.name} (pid ${proc.pid})`, () => stop());

  return {
    name: options.name,
    pid: proc.pid,
    process: proc,
    exitReason: () => exit,
    outputTail: () => tail,
    lineCount: () => lines,
    memory: async (gc = false) => {
      if (!options.probe || exit || !proc.connected) return undefined;
      const id = ++memorySeq;
      const answer = new Promise<MemoryUsage>((resolve) => pending.set(id, resolve));
      proc.send({ type: 'bench:memory', id, gc });
      try {
        return await withTimeout(answer, gc ? 10_000 : 2_000, `${options.name} memory probe`);
      } catch {
        pending.delete(id);
        return undefined;
      }
    },
    stop,
  };
}

/** The error to throw when a child failed: its exit reason and the end of its output. */
export function childFailure(child: Child, what: string): Error {
  const output = child.outputTail().trim().split('\n').slice(-30).join('\n');
  return new Error(`${child.name} ${what} (${child.exitReason() ?? 'still running'}). Last output:\n${output}`);
}
