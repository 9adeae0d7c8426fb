import { Injectable } from '@nestjs/common';
import { TokenSigner } from '../../auth/token-signer';
import { McpTokenIssuer } from './mcp-token-issuer';

export const MCP_TOKEN_TTL_SECONDS = 300;
/** A token is re-signed this long before it expires, so it never expires on its way to the server. */
const MCP_TOKEN_REFRESH_MARGIN_SECONDS = 60;
/** Bounds the cache however many users come by; the pool of user connections is smaller still. */
const MAX_CACHED_MCP_TOKENS = 1024;

interface CachedToken {
  token: string;
  refreshAt: number;
}

/** Caches each (server, user) token until a minute before expiry: headers are rendered on every request. */
@Injectable()
export class SignedMcpTokenIssuer extends McpTokenIssuer {
  /** In least-recently-used order: a Map iterates in insertion order, and a hit is re-inserted. */
  private readonly cache = new Map<string, CachedToken>();

  constructor(private readonly signer: TokenSigner) {
    super();
  }

  tokenFor(server: string, userId: string): string {
    const key = `${server}\0${userId}`;
    const now = Date.now();
    const cached = this.cache.get(key);
    this.cache.delete(key);
    if (cached !== undefined && now < cached.refreshAt) {
      this.cache.set(key, cached);
      return cached.token;
    }
    const token = this.signer.signForMcpServer(userId, server, MCP_TOKEN_TTL_SECONDS);
    this.cache.set(key, { token, refreshAt: now + (MCP_TOKEN_TTL_SECONDS - MCP_TOKEN_REFRESH_MARGIN_SECONDS) * 1000 });
    if (this.cache.size > MAX_CACHED_MCP_TOKENS) this.cache.delete(this.cache.keys().next().value as string);
    return token;
  }
}
