/**
 * One clock for every process of a run: `process.hrtime` is libuv's CLOCK_MONOTONIC on Linux, a clock of the
 * machine (not of the process) that wall-clock adjustments never step, read in nanoseconds. An instant taken in
 * the simulator's process and one taken in the bench's are therefore directly comparable (in milliseconds here;
 * a double holds them to well under a microsecond). `checkSharedClock` proves it on the machine at hand.
 */
export function nowMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

/**
 * Fails unless `remoteNow` (an instant read in another process, e.g. over IPC) falls between two local
 * readings around it: true only when both processes read the same clock. Returns the round trip.
 */
export async function checkSharedClock(what: string, remoteNow: () => Promise<number>): Promise<number> {
  const before = nowMs();
  const remote = await remoteNow();
  const after = nowMs();
  if (remote < before || remote > after) {
    throw new Error(
      `${what}'s clock is not this process's: it read ${remote.toFixed(3)} ms between ${before.toFixed(3)} and ` +
        `${after.toFixed(3)} here`,
    );
  }
  return after - before;
}
