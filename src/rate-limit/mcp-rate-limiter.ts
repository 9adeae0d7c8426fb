import { RateLimiter } from './rate-limiter';

export const MCP_RATE_LIMIT_POLICY_NAME = 'mcp';

/**
 * The per-user budget of `/mcp` requests: `MCP_RATE_LIMIT_PER_MINUTE`, apart from the chat budget, since
 * an MCP client spends several requests (initialize, tools/list, each call) where a chat client spends one.
 */
export abstract class McpRateLimiter extends RateLimiter {}
