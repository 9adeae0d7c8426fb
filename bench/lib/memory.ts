import { readFileSync } from 'node:fs';
import type { Child } from './children';
import { httpGet } from './util';

/** A process the bench measures: its RSS from /proc, its heap from `/metrics` or the heap probe. */
export interface Measured {
  name: string;
  pid: number;
  heapSource: 'metrics' | 'probe' | 'none';
  /** V8 heap used, in bytes; undefined when it cannot be read. */
  heapUsed(): Promise<number | undefined>;
}

/** Resident set size in bytes (VmRSS), or undefined once the process is gone. */
export function readRss(pid: number): number | undefined {
  return readStatusKb(pid, 'VmRSS');
}

/** Peak resident set size since the process started (VmHWM), in bytes. */
export function readPeakRss(pid: number): number | undefined {
  return readStatusKb(pid, 'VmHWM');
}

function readStatusKb(pid: number, field: string): number | undefined {
  try {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

const HEAP_METRIC = /^nodejs_heap_size_used_bytes(?:\{[^}]*\})?\s+([0-9.eE+]+)/m;

/**
 * Heap from the service's Prometheus endpoint when it has one (with or without a token), else from
 * the heap probe preloaded into the child.
 */
export async function measure(child: Child, baseUrl: string, authorization?: string): Promise<Measured> {
  const attempts: Record<string, string>[] = [{}, ...(authorization ? [{ authorization }] : [])];
  for (const headers of attempts) {
    const response = await httpGet(`${baseUrl}/metrics`, headers);
    if (response?.status === 200 && HEAP_METRIC.test(response.body)) {
      return {
        name: child.name,
        pid: child.pid,
        heapSource: 'metrics',
        heapUsed: async () => {
          const match = HEAP_METRIC.exec((await httpGet(`${baseUrl}/metrics`, headers))?.body ?? '');
          return match ? Number(match[1]) : undefined;
        },
      };
    }
  }
  const probed = await child.memory();
  return {
    name: child.name,
    pid: child.pid,
    heapSource: probed ? 'probe' : 'none',
    heapUsed: async () => (await child.memory())?.heapUsed,
  };
}
