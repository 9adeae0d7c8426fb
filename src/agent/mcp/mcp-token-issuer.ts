/**
 * Issues the `{{user_token}}` of templated MCP headers: a short-lived JWT for one user and one server, which
 * that server can verify and this service refuses (no token passthrough, SPEC §7).
 */
export abstract class McpTokenIssuer {
  /** `sub` = `userId`, `aud` = `server`; may return a cached token while it stays valid for a while. */
  abstract tokenFor(server: string, userId: string): string;
}
