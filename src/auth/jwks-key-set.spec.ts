import { TokenRejectedError } from './auth-failure';
import { JwksKeySet, type JwksKey } from './jwks-key-set';

const MIN_REFETCH_MS = 30_000;

function keySetServing(initial: JwksKey[]) {
  let clock = 0;
  let keys = initial;
  const fetchKeys = jest.fn(async () => keys);
  const keySet = new JwksKeySet(fetchKeys, {
    minRefetchMs: MIN_REFETCH_MS,
    maxAgeMs: 600_000,
    unknownKidTtlMs: 600_000,
    maxUnknownKids: 3,
    now: () => clock,
  });
  return {
    keySet,
    fetchKeys,
    advance: (ms: number) => (clock += ms),
    publish: (next: JwksKey[]) => (keys = next),
  };
}

const unknownKey = new TokenRejectedError('unknown_key');

describe(JwksKeySet.name, () => {
  it('fetches once for concurrent first requests', async () => {
    const { keySet, fetchKeys } = keySetServing([{ kid: 'a', publicKey: 'A' }]);

    expect(await Promise.all([keySet.keyFor('a'), keySet.keyFor('a'), keySet.keyFor('a')])).toEqual(['A', 'A', 'A']);
    expect(fetchKeys).toHaveBeenCalledTimes(1);
  });

  it('answers any number of made-up kids with one fetch per interval, and finds a rotated key after it', async () => {
    const { keySet, fetchKeys, advance, publish } = keySetServing([{ kid: 'a', publicKey: 'A' }]);
    await keySet.keyFor('a');

    const flood = await Promise.allSettled(Array.from({ length: 200 }, (_, i) => keySet.keyFor(`made-up-${i}`)));
    publish([
      { kid: 'a', publicKey: 'A' },
      { kid: 'b', publicKey: 'B' },
    ]);
    await expect(keySet.keyFor('b')).rejects.toEqual(unknownKey);
    advance(MIN_REFETCH_MS);

    expect(flood.every((outcome) => outcome.status === 'rejected')).toBe(true);
    expect(await keySet.keyFor('b')).toBe('B');
    expect(fetchKeys).toHaveBeenCalledTimes(2);
  });

  it('remembers a kid a fetch it started lacked, so it never fetches again for it', async () => {
    const { keySet, fetchKeys, advance } = keySetServing([{ kid: 'a', publicKey: 'A' }]);
    await keySet.keyFor('a');
    advance(MIN_REFETCH_MS);
    await expect(keySet.keyFor('ghost')).rejects.toEqual(unknownKey);

    advance(MIN_REFETCH_MS);
    await expect(keySet.keyFor('ghost')).rejects.toEqual(unknownKey);

    expect(fetchKeys).toHaveBeenCalledTimes(2);
  });

  it('keeps at most maxUnknownKids kids in memory, forgetting the oldest', async () => {
    const { keySet, fetchKeys, advance } = keySetServing([{ kid: 'a', publicKey: 'A' }]);
    for (const kid of ['k1', 'k2', 'k3', 'k4']) {
      advance(MIN_REFETCH_MS);
      await expect(keySet.keyFor(kid)).rejects.toEqual(unknownKey);
    }
    const fetched = fetchKeys.mock.calls.length;
    advance(MIN_REFETCH_MS);

    await expect(keySet.keyFor('k1')).rejects.toEqual(unknownKey);

    expect(fetchKeys).toHaveBeenCalledTimes(fetched + 1);
  });

  it('passes on a failed fetch until the next one may run', async () => {
    const { keySet, fetchKeys, advance } = keySetServing([{ kid: 'a', publicKey: 'A' }]);
    const down = Object.assign(new Error('connect ECONNREFUSED'), { isEndpointUnavailable: true });
    fetchKeys.mockRejectedValueOnce(down);

    await expect(keySet.keyFor('a')).rejects.toBe(down);
    await expect(keySet.keyFor('a')).rejects.toBe(down);
    advance(MIN_REFETCH_MS);

    expect(await keySet.keyFor('a')).toBe('A');
    expect(fetchKeys).toHaveBeenCalledTimes(2);
  });

  it('uses the only key of a one-key set for a token without kid', async () => {
    const { keySet } = keySetServing([{ publicKey: 'A' }]);

    expect(await keySet.keyFor(undefined)).toBe('A');
  });
});
