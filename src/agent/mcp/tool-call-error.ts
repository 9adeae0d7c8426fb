import { StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';

export interface FailedCall {
  server: string;
  tool: string;
  timeoutMs: number;
  cancelled: boolean;
}

/** A Streamable HTTP server answers 404 to a session it no longer knows: a new session fixes it. */
export function isExpiredSession(error: unknown): boolean {
  return error instanceof StreamableHTTPError && error.code === 404;
}

/** The server answered that this identity may not connect (401/403): retrying with the same one will not help. */
export function isRefusal(error: unknown): boolean {
  return error instanceof StreamableHTTPError && (error.code === 401 || error.code === 403);
}

/** Anything but an MCP error means the transport itself failed: the connection is no longer usable. */
export function isTransportFailure(error: unknown): boolean {
  return !(error instanceof McpError);
}

export function toolCallErrorText(error: unknown, call: FailedCall): string {
  const subject = `Tool ${call.tool} on server ${call.server}`;
  if (call.cancelled) return `${subject} was cancelled`;
  if (error instanceof McpError) {
    if (error.code === ErrorCode.RequestTimeout) return `${subject} timed out after ${call.timeoutMs} ms`;
    if (error.code === ErrorCode.ConnectionClosed) return `${subject} failed: the server closed the connection`;
    return `${subject} failed: ${error.message}`;
  }
  return `${subject} is unavailable: ${errorMessage(error)}`;
}

/** Duck-typed, as errors raised in another realm (Node internals seen from a vm context) fail `instanceof`. */
export function errorMessage(error: unknown): string {
  const message = typeof error === 'object' && error !== null && 'message' in error ? error.message : undefined;
  return typeof message === 'string' ? message : String(error);
}
