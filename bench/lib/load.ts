import autocannon from 'autocannon';
import type { Child } from './children';
import type { Measured } from './memory';
import { readRss } from './memory';
import { percentile, sleep } from './util';

export interface RequestSpec {
  method: 'GET' | 'POST';
  path: string;
  headers: Record<string, string>;
  body?: string;
}

/** A request from a generator; `release` runs when its response arrives (e.g. to free its conversation). */
export interface GeneratedRequest extends RequestSpec {
  release?: () => void;
}

export interface LoadOptions {
  baseUrl: string;
  connections: number;
  /** Seconds; ignored when `amount` is set. */
  durationS: number;
  /** Stop after this many responses instead of after `durationS`. */
  amount?: number;
  /** Requests per second across all connections (a fixed-rate run); unset = as fast as answered. */
  overallRate?: number;
  timeoutS?: number;
  /** One fixed request (built once), or a generator called before every request. */
  request: RequestSpec | (() => GeneratedRequest);
  /** The process whose memory is sampled during the run. */
  monitor?: Measured;
  sampleEveryMs?: number;
}

export interface MemorySample {
  /** Seconds since the run started. */
  t: number;
  rss?: number;
  heapUsed?: number;
}

export interface LoadResult {
  connections: number;
  durationS: number;
  /** 2xx responses. */
  ok: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  statusCounts: Record<string, number>;
  /** The first few non-2xx answers, for diagnosis. */
  failures: string[];
  /** 2xx responses per second. */
  rps: number;
  /** Client-side latency of 2xx responses, ms (measured per request, not bucketed). */
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
  /** autocannon's p99, corrected for coordinated omission in fixed-rate runs (whole ms). */
  correctedP99: number;
  peakRss?: number;
  peakHeapUsed?: number;
  samples: MemorySample[];
  /** The discarded warm-up run, checked for failures like the measured one. */
  warmup?: LoadResult;
}

const MAX_LATENCY_SAMPLES = 5_000_000;
const FAILURE_SAMPLES = 3;

/** Runs autocannon once and measures latency, throughput and the monitored process's memory. */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  let latencies = new Float64Array(65_536);
  let count = 0;
  let lastOkAt = 0;
  const failures: string[] = [];
  const request: autocannon.Request =
    typeof options.request === 'function'
      ? {
          setupRequest: (base, context) => {
            const spec = (options.request as () => GeneratedRequest)();
            context.release = spec.release;
            return { ...base, method: spec.method, path: spec.path, headers: spec.headers, body: spec.body };
          },
          onResponse: (status, body, context) => {
            (context.release as (() => void) | undefined)?.();
            if (status >= 300 && failures.length < FAILURE_SAMPLES) failures.push(`${status} ${body.slice(0, 400)}`);
          },
        }
      : {
          ...options.request,
          onResponse: (status, body) => {
            if (status >= 300 && failures.length < FAILURE_SAMPLES) failures.push(`${status} ${body.slice(0, 400)}`);
          },
        };

  const samples: MemorySample[] = [];
  const started = Date.now();
  const sampleEveryMs = options.sampleEveryMs ?? 250;
  let sampling = false;
  const sample = async (): Promise<void> => {
    if (!options.monitor || sampling) return;
    sampling = true;
    try {
      const heapUsed = await options.monitor.heapUsed();
      samples.push({ t: (Date.now() - started) / 1000, rss: readRss(options.monitor.pid), heapUsed });
    } finally {
      sampling = false;
    }
  };
  const sampler = setInterval(() => void sample(), sampleEveryMs);

  let result: autocannon.Result;
  try {
    result = await new Promise<autocannon.Result>((resolve, reject) => {
      const instance = autocannon(
        {
          url: options.baseUrl,
          connections: options.connections,
          duration: options.durationS,
          ...(options.amount && { amount: options.amount }),
          ...(options.overallRate && { overallRate: options.overallRate }),
          timeout: options.timeoutS ?? 30,
          requests: [request],
        },
        (error, value) => (error ? reject(error) : resolve(value)),
      );
      instance.on('response', (_client: unknown, status: number, _bytes: number, responseTime: number) => {
        if (status < 200 || status >= 300) return;
        lastOkAt = Date.now();
        if (count >= MAX_LATENCY_SAMPLES) return;
        if (count === latencies.length) {
          const grown = new Float64Array(latencies.length * 2);
          grown.set(latencies);
          latencies = grown;
        }
        latencies[count++] = responseTime;
      });
    });
  } finally {
    clearInterval(sampler);
  }
  await sample();

  const sorted = latencies.subarray(0, count).sort();
  const statusCounts = Object.fromEntries(
    Object.entries(result.statusCodeStats).map(([status, { count: n }]) => [status, n]),
  );
  const ok = Object.entries(statusCounts)
    .filter(([status]) => status.startsWith('2'))
    .reduce((sum, [, n]) => sum + n, 0);
  // autocannon ends a run on its 1 s tick: with `amount`, time the run to its last answer instead.
  const durationS = options.amount && lastOkAt > started ? (lastOkAt - started) / 1000 : result.duration;
  const rssValues = samples.flatMap((s) => (s.rss === undefined ? [] : [s.rss]));
  const heapValues = samples.flatMap((s) => (s.heapUsed === undefined ? [] : [s.heapUsed]));
  return {
    connections: options.connections,
    durationS,
    ok,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    statusCounts,
    failures,
    rps: ok / durationS,
    p50: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p99: percentile(sorted, 99),
    max: count > 0 ? sorted[count - 1] : Number.NaN,
    mean: count > 0 ? sorted.reduce((a, b) => a + b, 0) / count : Number.NaN,
    correctedP99: result.latency.p99,
    peakRss: rssValues.length > 0 ? Math.max(...rssValues) : undefined,
    peakHeapUsed: heapValues.length > 0 ? Math.max(...heapValues) : undefined,
    samples,
  };
}

export interface MeasureOptions extends LoadOptions {
  warmupS: number;
  /** Called before the warm-up and before the measured run (e.g. to reset per-run state). */
  beforeRun?: (phase: 'warmup' | 'measured') => void | Promise<void>;
}

/**
 * A warm-up run (discarded), then the measured run. After each, a pause lets requests that autocannon
 * cut off when its time ran out finish on the server, so they do not load the next run.
 */
export async function measureLoad(options: MeasureOptions): Promise<LoadResult> {
  let warmup: LoadResult | undefined;
  if (options.warmupS > 0 && !options.amount) {
    await options.beforeRun?.('warmup');
    warmup = await runLoad({ ...options, durationS: options.warmupS, monitor: undefined });
    await sleep(settleMs(warmup));
  }
  await options.beforeRun?.('measured');
  const result = await runLoad(options);
  await sleep(settleMs(result));
  return { ...result, warmup };
}

function settleMs(result: LoadResult): number {
  const slowest = Number.isFinite(result.max) ? result.max : 0;
  return Math.min(10_000, Math.max(200, 1.5 * slowest));
}

/**
 * An error if the run (or its warm-up) had any failure: a benchmark of failing requests measures
 * nothing. With `server`, the error carries the end of its log.
 */
export function assertClean(label: string, result: LoadResult, server?: Child): void {
  if (result.warmup) assertClean(`${label} (warm-up)`, result.warmup, server);
  const tail = server?.outputTail().trim().split('\n').slice(-6);
  const log = tail ? `\n${server?.name} log tail:\n${tail.map((line) => line.slice(0, 600)).join('\n')}` : '';
  if (result.ok === 0 && result.non2xx === 0 && result.errors === 0 && result.timeouts === 0) {
    throw new Error(`${label}: no request completed within the ${result.durationS} s run${log}`);
  }
  if (result.ok === 0 || result.non2xx > 0 || result.errors > 0 || result.timeouts > 0) {
    const detail = result.failures.length > 0 ? `; e.g. ${result.failures.join(' | ')}` : '';
    throw new Error(
      `${label}: ${result.ok} ok, ${result.non2xx} non-2xx, ${result.errors} errors, ${result.timeouts} timeouts ` +
        `(status ${JSON.stringify(result.statusCounts)})${detail}${log}`,
    );
  }
}
