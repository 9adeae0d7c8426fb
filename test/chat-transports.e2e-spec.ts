import { createEchoServer } from './support/mcp/echo-server';
import { startStreamableHttpHost, type StreamableHttpHost } from './support/mcp/streamable-http-host';
import { ECHO_STDIO_ENTRY, IN_MEMORY_ECHO, startChatHarness, type ChatHarness } from './support/chat-harness';

describe('Chat turns over every MCP transport', () => {
  let http: StreamableHttpHost;
  let h: ChatHarness;

  beforeAll(async () => {
    http = await startStreamableHttpHost(createEchoServer);
    h = await startChatHarness({
      servers: [
        IN_MEMORY_ECHO,
        { name: 'stdio', transport: { type: 'stdio', command: process.execPath, args: [ECHO_STDIO_ENTRY] } },
        { name: 'http', transport: { type: 'http', url: http.url } },
      ],
    });
  });
  afterAll(async () => {
    await h.close();
    await http.close();
  });
  beforeEach(() => h.sim.reset());

  it('offers every server’s tools to the model, prefixing the names that clash', async () => {
    h.sim.enqueue({ kind: 'text', text: 'ok' });
    await h.send({ message: 'which tools?' });
    const names: string[] = h.sim.requests[0].body.tools.map((tool: { name: string }) => tool.name);
    expect(names).toEqual(expect.arrayContaining(['echo__echo', 'stdio__echo', 'http__echo']));
    expect(names).not.toContain('echo');
  });

  it.each(['echo', 'stdio', 'http'])('round-trips a tool call over the %s server', async (server) => {
    h.sim.enqueue(
      { kind: 'tool_use', calls: [{ name: `${server}__echo`, input: { text: `via ${server}` } }] },
      { kind: 'text', text: 'done' },
    );
    const response = await h.send({ message: `echo via ${server}` });
    expect(response.statusCode).toBe(200);
    expect(response.json().tool_calls).toEqual([
      expect.objectContaining({ tool: 'echo', server, result: { text: `via ${server}` }, is_error: false }),
    ]);
  });

  it('runs calls to different servers in one round', async () => {
    h.sim.enqueue(
      {
        kind: 'tool_use',
        calls: [
          { name: 'echo__echo', input: { text: 'a' } },
          { name: 'stdio__echo', input: { text: 'b' } },
          { name: 'http__echo', input: { text: 'c' } },
        ],
      },
      { kind: 'text', text: 'all three' },
    );
    const body = (await h.send({ message: 'all of them' })).json();
    expect(body.tool_calls.map((call: { server: string; result: unknown }) => [call.server, call.result])).toEqual([
      ['echo', { text: 'a' }],
      ['stdio', { text: 'b' }],
      ['http', { text: 'c' }],
    ]);
  });
});
