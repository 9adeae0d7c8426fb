import { Logger } from '@nestjs/common';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { McpSessionStore } from './mcp-session-store';

const IDLE_MS = 1_000;

interface FakeTransport extends Transport {
  close: jest.Mock<Promise<void>, []>;
}

function makeTransport(): FakeTransport {
  return { start: async () => undefined, send: async () => undefined, close: jest.fn(async () => undefined) };
}

describe(McpSessionStore.name, () => {
  let store: McpSessionStore<FakeTransport>;

  beforeAll(() => Logger.overrideLogger(false));

  beforeEach(() => {
    jest.useFakeTimers();
    store = new McpSessionStore({ idleMs: IDLE_MS, maxSessionsPerUser: 2 });
  });

  afterEach(async () => {
    await store.closeAll();
    jest.useRealTimers();
  });

  it('gives a session only to the user who opened it: for anyone else it does not exist', () => {
    const transport = makeTransport();
    store.add('s1', 'alice', transport);

    expect(store.find('s1', 'alice')).toBe(transport);
    expect(store.find('s1', 'bob')).toBeUndefined();
    expect(store.find('unknown', 'alice')).toBeUndefined();
  });

  it('closes a session left idle, and a request in between restarts its clock', () => {
    const transport = makeTransport();
    store.add('s1', 'alice', transport);

    jest.advanceTimersByTime(IDLE_MS - 10);
    expect(store.find('s1', 'alice')).toBe(transport);
    jest.advanceTimersByTime(IDLE_MS - 10);
    expect(transport.close).not.toHaveBeenCalled();

    jest.advanceTimersByTime(20);
    expect(transport.close).toHaveBeenCalledTimes(1);
    expect(store.find('s1', 'alice')).toBeUndefined();
  });

  it('does not count an attempt by another user as use of the session', () => {
    const transport = makeTransport();
    store.add('s1', 'alice', transport);

    jest.advanceTimersByTime(IDLE_MS - 10);
    store.find('s1', 'bob');
    jest.advanceTimersByTime(20);

    expect(transport.close).toHaveBeenCalledTimes(1);
  });

  it("closes the user's least recently used session beyond the per-user limit, and no one else's", () => {
    const [first, second, third, other] = [makeTransport(), makeTransport(), makeTransport(), makeTransport()];
    store.add('bob-1', 'bob', other);
    store.add('a1', 'alice', first);
    jest.advanceTimersByTime(10);
    store.add('a2', 'alice', second);
    jest.advanceTimersByTime(10);
    store.find('a1', 'alice');

    store.add('a3', 'alice', third);

    expect(second.close).toHaveBeenCalledTimes(1);
    expect([first, third, other].map((transport) => transport.close.mock.calls.length)).toEqual([0, 0, 0]);
    expect(store.size).toBe(3);
  });

  it('forgets a session whose client ended it, without closing it again', () => {
    const transport = makeTransport();
    store.add('s1', 'alice', transport);

    store.remove('s1');
    jest.advanceTimersByTime(IDLE_MS * 2);

    expect(store.find('s1', 'alice')).toBeUndefined();
    expect(transport.close).not.toHaveBeenCalled();
  });

  it('closes every session at shutdown', async () => {
    const transports = [makeTransport(), makeTransport()];
    store.add('s1', 'alice', transports[0]);
    store.add('s2', 'bob', transports[1]);

    await store.onApplicationShutdown();

    expect(transports.map((transport) => transport.close.mock.calls.length)).toEqual([1, 1]);
    expect(store.size).toBe(0);
  });
});
