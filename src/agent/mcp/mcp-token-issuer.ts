/** `{{user_token}}`: a short-lived JWT one server can verify and this service refuses (SPEC §7). */
export abstract class McpTokenIssuer {
  /** `sub` = `userId`, `aud` = `server`; may return a cached token while it stays valid for a while. */
  abstract tokenFor(server: string, userId: string): string;
}
