import { PeriodicTask, sweepIntervalFor } from './periodic-task';

describe(PeriodicTask.name, () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('runs the task every interval, never two at once, and stop waits for the run in progress', async () => {
    let finish: () => void = () => undefined;
    const task = jest.fn(() => new Promise<void>((resolve) => (finish = resolve)));
    const periodic = new PeriodicTask(task);
    periodic.start(100);

    await jest.advanceTimersByTimeAsync(350);
    expect(task).toHaveBeenCalledTimes(1);

    let stopped = false;
    const stopping = periodic.stop().then(() => (stopped = true));
    await jest.advanceTimersByTimeAsync(0);
    expect(stopped).toBe(false);
    finish();
    await stopping;
    await jest.advanceTimersByTimeAsync(1_000);
    expect(task).toHaveBeenCalledTimes(1);
  });

  it('sweeps at half the TTL, within 50 ms and one minute', () => {
    expect([sweepIntervalFor(20), sweepIntervalFor(500), sweepIntervalFor(3_600_000)]).toEqual([50, 250, 60_000]);
  });
});
