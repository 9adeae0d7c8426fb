import { Injectable } from '@nestjs/common';
import { McpRateLimiter } from './mcp-rate-limiter';
import { RateLimitGuard } from './rate-limit.guard';

/** The MCP budget on every `/mcp` request, after the JWT guard. */
@Injectable()
export class McpRateLimitGuard extends RateLimitGuard {
  constructor(limiter: McpRateLimiter) {
    super(limiter, 'MCP requests');
  }
}
