import { StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';
import { isExpiredSession, isTransportFailure, toolCallErrorText } from './tool-call-error';

describe(toolCallErrorText.name, () => {
  const call = { server: 'tasks', tool: 'list_tasks', timeoutMs: 5000, cancelled: false };

  it('names the tool, the server and the timeout when the call timed out', () => {
    const error = new McpError(ErrorCode.RequestTimeout, 'Request timed out');

    expect(toolCallErrorText(error, call)).toBe('Tool list_tasks on server tasks timed out after 5000 ms');
  });

  it('says the call was cancelled when the caller aborted it, whatever the SDK reported', () => {
    const error = new McpError(ErrorCode.RequestTimeout, 'AbortError');

    expect(toolCallErrorText(error, { ...call, cancelled: true })).toBe(
      'Tool list_tasks on server tasks was cancelled',
    );
  });

  it('explains a connection that closed during the call', () => {
    const error = new McpError(ErrorCode.ConnectionClosed, 'Connection closed');

    expect(toolCallErrorText(error, call)).toBe(
      'Tool list_tasks on server tasks failed: the server closed the connection',
    );
  });

  it("relays the server's own JSON-RPC error", () => {
    const error = new McpError(ErrorCode.InvalidParams, 'Tool list_tasks disabled');

    expect(toolCallErrorText(error, call)).toBe(
      'Tool list_tasks on server tasks failed: MCP error -32602: Tool list_tasks disabled',
    );
  });

  it('reports a transport failure as the server being unavailable', () => {
    expect(toolCallErrorText(new TypeError('fetch failed'), call)).toBe(
      'Tool list_tasks on server tasks is unavailable: fetch failed',
    );
  });
});

describe(isExpiredSession.name, () => {
  it('recognises the 404 a Streamable HTTP server sends for a session it forgot', () => {
    expect(isExpiredSession(new StreamableHTTPError(404, 'Session not found'))).toBe(true);
    expect(isExpiredSession(new StreamableHTTPError(500, 'boom'))).toBe(false);
    expect(isExpiredSession(new McpError(-32001, 'Session not found'))).toBe(false);
  });
});

describe(isTransportFailure.name, () => {
  it('treats anything but an MCP error as a broken connection', () => {
    expect(isTransportFailure(new TypeError('fetch failed'))).toBe(true);
    expect(isTransportFailure(new StreamableHTTPError(502, 'Bad Gateway'))).toBe(true);
    expect(isTransportFailure(new McpError(ErrorCode.RequestTimeout, 'Request timed out'))).toBe(false);
  });
});
