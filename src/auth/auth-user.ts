import type { JwtPayload } from 'jsonwebtoken';

/** The principal the JWT guard puts on `request.user`. */
export interface AuthUser {
  /** The token's `sub`: the user id every query is scoped to. */
  userId: string;
  /** The raw bearer token, kept so identity can be forwarded to MCP servers. */
  token: string;
  claims: JwtPayload;
}

/** The slice of a Fastify request the auth code reads, so it does not depend on the HTTP adapter. */
export interface AuthRequest {
  headers: Record<string, string | string[] | undefined>;
  params?: Record<string, string | undefined>;
  user?: AuthUser;
}
