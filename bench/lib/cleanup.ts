import { withTimeout } from './util';

type CleanupFn = () => Promise<void> | void;

interface Entry {
  name: string;
  fn: CleanupFn;
}

const CLEANUP_STEP_TIMEOUT_MS = 20_000;
const entries: Entry[] = [];

/**
 * Registers something to undo (a child process, a temp dir, a database). Cleanups run last-in first-out,
 * once, whether the run succeeds, fails or is interrupted. Returns a function that runs it early.
 */
export function onCleanup(name: string, fn: CleanupFn): () => Promise<void> {
  const entry: Entry = { name, fn };
  entries.push(entry);
  return async () => {
    const index = entries.indexOf(entry);
    if (index < 0) return;
    entries.splice(index, 1);
    await runOne(entry);
  };
}

export async function runCleanups(): Promise<void> {
  while (entries.length > 0) {
    const entry = entries.pop() as Entry;
    await runOne(entry);
  }
}

async function runOne(entry: Entry): Promise<void> {
  try {
    await withTimeout(Promise.resolve().then(entry.fn), CLEANUP_STEP_TIMEOUT_MS, `cleanup ${entry.name}`);
  } catch (error) {
    process.stderr.write(`bench: cleanup of ${entry.name} failed: ${(error as Error).message}\n`);
  }
}

/** Runs `fn`, then undoes everything it registered (last first), even when it throws. */
export async function scoped<T>(fn: () => Promise<T>): Promise<T> {
  const mark = entries.length;
  try {
    return await fn();
  } finally {
    while (entries.length > mark) await runOne(entries.pop() as Entry);
  }
}
