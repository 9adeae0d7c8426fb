import { RECONNECT_BASE_DELAY_MS, RECONNECT_MAX_DELAY_MS, reconnectDelayMs } from './reconnect-backoff';

describe(reconnectDelayMs.name, () => {
  it('doubles the ceiling with every attempt', () => {
    const ceilings = [0, 1, 2, 3].map((attempt) => reconnectDelayMs(attempt, () => 1));

    expect(ceilings).toEqual([1, 2, 4, 8].map((factor) => RECONNECT_BASE_DELAY_MS * factor));
  });

  it('keeps at least half the ceiling and jitters the rest', () => {
    expect(reconnectDelayMs(2, () => 0)).toBe(RECONNECT_BASE_DELAY_MS * 2);
    expect(reconnectDelayMs(2, () => 0.5)).toBe(RECONNECT_BASE_DELAY_MS * 3);
  });

  it('never waits longer than the cap, however many attempts failed', () => {
    expect(reconnectDelayMs(60, () => 1)).toBe(RECONNECT_MAX_DELAY_MS);
    expect(reconnectDelayMs(10_000, () => 1)).toBe(RECONNECT_MAX_DELAY_MS);
  });
});
