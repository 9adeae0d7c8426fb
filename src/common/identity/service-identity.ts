/** Who tool discovery speaks for; no user may be it (docs/architecture.md#per-user-mcp-discovery). */
export const SERVICE_IDENTITY = 'chat-service';
