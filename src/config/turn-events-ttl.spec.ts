import { ConfigError, loadConfig } from './app-config';

const BASE = { NODE_ENV: 'test', JWT_SECRET: 'turn-events-ttl-spec' };
const ttlOf = (env: Record<string, string>) => loadConfig({ ...BASE, ...env }).chat.turnEventsTtlMs;

function problemsOf(value: string): string[] {
  try {
    loadConfig({ ...BASE, CHAT_TURN_EVENTS_TTL: value });
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe('CHAT_TURN_EVENTS_TTL', () => {
  it.each([
    ['250ms', 250],
    ['30s', 30_000],
    ['10m', 600_000],
    ['1h', 3_600_000],
    ['5000', 5000],
    ['100ms', 100],
    ['720h', 30 * 24 * 3_600_000],
  ])('reads %j as %d ms', (value, ms) => {
    expect(ttlOf({ CHAT_TURN_EVENTS_TTL: value })).toBe(ms);
  });

  it('defaults to 1 h', () => {
    expect(ttlOf({})).toBe(3_600_000);
  });

  it.each([
    ['1d', 'must be a duration such as 500ms, 30s, 10m, 1h (or milliseconds)'],
    ['-1s', 'must be a duration such as 500ms, 30s, 10m, 1h (or milliseconds)'],
    ['abc', 'must be a duration such as 500ms, 30s, 10m, 1h (or milliseconds)'],
    ['1.5h', 'must be a duration such as 500ms, 30s, 10m, 1h (or milliseconds)'],
    ['30 s', 'must be a duration such as 500ms, 30s, 10m, 1h (or milliseconds)'],
    ['99ms', 'must be at least 100 ms'],
    ['99', 'must be at least 100 ms'],
    ['0s', 'must be at least 100 ms'],
    ['721h', `must be at most ${30 * 24 * 3_600_000} ms`],
  ])('refuses %j, naming the key', (value, problem) => {
    expect(problemsOf(value)).toEqual([`CHAT_TURN_EVENTS_TTL: ${problem}`]);
  });
});
