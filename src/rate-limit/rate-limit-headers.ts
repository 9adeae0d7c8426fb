import type { RateLimitDecision, RateLimitPolicy } from './rate-limiter';

/** The fields of draft-ietf-httpapi-ratelimit-headers (-10/-11), which supersede the X-RateLimit-* family. */
export const RATE_LIMIT_POLICY_HEADER = 'RateLimit-Policy';
export const RATE_LIMIT_HEADER = 'RateLimit';

/** `"chat";q=20;w=60`: a Structured Fields item naming the policy, with its quota and window in seconds. */
export function formatRateLimitPolicy(policy: RateLimitPolicy): string {
  return `${policyItem(policy.name)};q=${policy.limit};w=${policy.windowSeconds}`;
}

/** `"chat";r=17;t=42`: the quota left under the policy and the seconds until it is restored. */
export function formatRateLimit(policy: RateLimitPolicy, decision: RateLimitDecision): string {
  return `${policyItem(policy.name)};r=${decision.remaining};t=${decision.resetSeconds}`;
}

/** The item is an SF String; a name that would need escaping is refused rather than sent malformed. */
function policyItem(name: string): string {
  if (!/^[A-Za-z0-9_.-]+$/.test(name)) throw new Error(`Invalid rate-limit policy name: ${name}`);
  return `"${name}"`;
}
