import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { Pool } from 'pg';

/**
 * CPU time, which other work on the machine slows down far less than it slows throughput: a figure per turn
 * that stays put when the run is shared with other processes.
 */
const TICKS_PER_S = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

/** User + system CPU of a process so far, in ms (0 once it is gone). */
export function processCpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The fields after the command name, which is in parentheses and may hold spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_S;
  } catch {
    return 0;
  }
}

/** CPU so far of each PostgreSQL backend connected to the pool's database (the server runs on this machine). */
async function backendCpuMs(pool: Pool): Promise<Map<number, number>> {
  const { rows } = await pool.query<{ pid: number }>(
    'SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()',
  );
  return new Map(rows.map((row) => [row.pid, processCpuMs(row.pid)]));
}

const SAMPLE_MS = 500;

/**
 * CPU spent by the process and by its database's backends between this call and the one it returns. Pools
 * open and close connections meanwhile, so the backends are sampled every SAMPLE_MS: one that appears counts
 * from zero (its start is part of the cost), one that leaves keeps what it had at its last sample. The
 * database's figure is NaN without a pool (the embedded database runs inside the service).
 */
export async function cpuMeter(pid: number, pool?: Pool): Promise<() => Promise<{ serverMs: number; dbMs: number }>> {
  const server = processCpuMs(pid);
  const first = pool ? await backendCpuMs(pool) : new Map<number, number>();
  const last = new Map(first);
  const sample = async (): Promise<void> => {
    for (const [backend, ms] of await backendCpuMs(pool as Pool)) last.set(backend, ms);
  };
  let sampling = Promise.resolve();
  const timer = pool ? setInterval(() => (sampling = sampling.then(sample, sample)), SAMPLE_MS) : undefined;
  return async () => {
    clearInterval(timer);
    if (pool) await sampling.then(sample);
    let dbMs = 0;
    for (const [backend, ms] of last) dbMs += ms - (first.get(backend) ?? 0);
    return { serverMs: processCpuMs(pid) - server, dbMs: pool ? dbMs : Number.NaN };
  };
}
