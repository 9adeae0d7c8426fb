import { execFile } from 'node:child_process';
import { mkdtempSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { onCleanup } from './cleanup';

const run = promisify(execFile);
const BUILD_TIMEOUT_MS = 300_000;

/**
 * The service as built from another commit, to measure beside this one: a detached `git worktree` in a
 * temporary folder, this checkout's node_modules linked in (no install), `nest build` there. The worktree is
 * removed at cleanup. Returns its root (`<root>/dist/src/main.js` is the service).
 */
export async function buildAtCommit(root: string, ref: string): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'chat-bench-build-'));
  onCleanup(`git worktree ${dir}`, async () => {
    await run('git', ['-C', root, 'worktree', 'remove', '--force', dir]).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
    await run('git', ['-C', root, 'worktree', 'prune']);
  });
  await run('git', ['-C', root, 'worktree', 'add', '--detach', dir, ref]);
  symlinkSync(realpathSync(join(root, 'node_modules')), join(dir, 'node_modules'));
  try {
    await run(join(dir, 'node_modules', '.bin', 'nest'), ['build'], { cwd: dir, timeout: BUILD_TIMEOUT_MS });
  } catch (error) {
    const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
    throw new Error(`nest build of ${ref} failed: ${(stdout + stderr).trim().slice(-2000)}`, { cause: error });
  }
  return dir;
}
