import { join } from 'node:path';
import { type Child, childFailure, startChild } from './children';
import type { PaceSpec, SimulatorStats } from './simulator-protocol';
import { withTimeout } from './util';

const START_TIMEOUT_MS = 15_000;
const IPC_TIMEOUT_MS = 5_000;

export interface Simulator {
  url: string;
  child: Child;
  stats(): Promise<SimulatorStats>;
  reset(): Promise<void>;
  /** Paces the streamed answers from now on (undefined: at once). */
  setPace(pace: PaceSpec | undefined): Promise<void>;
  /** The simulator's clock (clock.ts), to check it is the bench's. */
  clock(): Promise<number>;
  /** When each tagged turn's first text delta was written (clock.ts ms), since the last call. */
  firstDeltas(): Promise<Map<string, number>>;
}

export interface SimulatorOptions {
  delayMs: number;
  /** Answer "add a task …" messages with a call to this tool when the service offers it. */
  tool?: string;
  /** Pace every streamed answer (see simulator-protocol.ts). */
  pace?: PaceSpec;
  cwd: string;
}

/** The Anthropic simulator in a child process (see simulator-child.ts), on a port it picks. */
export async function startSimulator(options: SimulatorOptions): Promise<Simulator> {
  const child = startChild({
    name: 'simulator',
    script: join(__dirname, 'simulator-child.js'),
    cwd: options.cwd,
    env: {
      SIM_PORT: '0',
      SIM_DELAY_MS: String(options.delayMs),
      ...(options.tool && { SIM_TOOL: options.tool }),
      ...(options.pace && { SIM_PACE: JSON.stringify(options.pace) }),
    },
    ipc: true,
  });
  const ask = <T>(
    request: string,
    pick: (message: Record<string, unknown>) => T | undefined,
    payload: object = {},
  ): Promise<T> =>
    withTimeout(
      new Promise<T>((resolve) => {
        const listener = (message: Record<string, unknown>): void => {
          const value = message?.type === request ? pick(message) : undefined;
          if (value === undefined) return;
          child.process.off('message', listener);
          resolve(value);
        };
        child.process.on('message', listener);
        if (request !== 'ready') child.process.send({ ...payload, type: request });
      }),
      request === 'ready' ? START_TIMEOUT_MS : IPC_TIMEOUT_MS,
      `simulator ${request}`,
    );
  const url = await ask('ready', (message) => message.url as string).catch((error: Error) => {
    throw childFailure(child, `did not start: ${error.message}`);
  });
  return {
    url,
    child,
    stats: () => ask('stats', (message) => message.stats as SimulatorStats),
    reset: () => ask('reset', () => true).then(() => undefined),
    setPace: (pace) => ask('pace', () => true, { pace }).then(() => undefined),
    clock: () => ask('clock', (message) => message.now as number),
    firstDeltas: () =>
      ask('first-deltas', (message) => new Map(Object.entries(message.instants as Record<string, number>))),
  };
}
