import { RateLimiter } from './rate-limiter';

export const MCP_RATE_LIMIT_POLICY_NAME = 'mcp';

/** `MCP_RATE_LIMIT_PER_MINUTE`, apart from chat's: an MCP client spends several requests per action. */
export abstract class McpRateLimiter extends RateLimiter {}
