/**
 * The service's own identity towards MCP servers: tool discovery speaks for it (`{{user_id}}` renders as this,
 * `{{user_token}}` is signed for this `sub`). No user may ever be it, so a server can treat it as "list tools only".
 */
export const SERVICE_IDENTITY = 'chat-service';
