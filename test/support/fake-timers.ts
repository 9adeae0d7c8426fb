/**
 * Jest's fake timers do not reach `node:timers/promises`, which the services wait with. A spec that
 * drives those waits with fake timers replaces the module by this one, built on the global timers:
 * `jest.mock('node:timers/promises', () => jest.requireActual('<path to>/test/support/fake-timers').timersPromises);`
 */
export const timersPromises = {
  setTimeout: <T = void>(ms?: number, value?: T): Promise<T> =>
    new Promise((resolve) => setTimeout(() => resolve(value as T), ms)),
};
