/** This service's rate-limit keys in a Redis that other services (or other policies) may share. */
export const DEFAULT_RATE_LIMIT_NAMESPACE = 'chat-service:rate-limit';

/** Injection token of the namespace: test runs override it so parallel runs on one Redis stay apart. */
export const RATE_LIMIT_NAMESPACE = Symbol('RATE_LIMIT_NAMESPACE');

/** Stored as `<prefix>:<user id>`: the id last, after a fixed prefix, so two ids never share a key. */
export function rateLimitKeyPrefix(namespace: string, policyName: string): string {
  if (namespace === '' || policyName === '') throw new Error('A rate-limit namespace and policy name are required');
  return `${namespace}:${policyName}`;
}
