import { createHmac } from 'node:crypto';

/** The JWT `typ` of a `{{user_token}}`: this service refuses it, so an MCP server cannot log in as the user. */
export const MCP_TOKEN_TYPE = 'mcp-user+jwt';

/** Names the purpose of the derived key; changing it invalidates every key operators copied. */
export const MCP_TOKEN_KEY_LABEL = 'chat-service/mcp-user-token/v1';

/** HMAC-SHA256(JWT_SECRET, label) in hex: an MCP server given it can verify its tokens, never forge ours. */
export function deriveMcpTokenSecret(jwtSecret: string): string {
  return createHmac('sha256', jwtSecret).update(MCP_TOKEN_KEY_LABEL).digest('hex');
}
