import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import type { McpServerDefinition } from '../src/agent/mcp/mcp-server-definition';
import { IN_MEMORY_ECHO, startChatHarness, type ChatHarness } from './support/chat-harness';
import { insertConversation } from './support/factories';
import { newUserId } from './support/test-app';

const TOOL_RESULT_MAX_BYTES = 16 * 1024;
const MODEL_REQUEST_MAX_BYTES = 1024 * 1024;

/** Tools that count their calls and return results of any size. */
function limitsServer(calls: { count: number }): McpServerDefinition {
  const createServer = () => {
    const server = new McpServer({ name: 'limits', version: '1.0.0' });
    server.registerTool('count', { description: 'Counts its calls.' }, () => {
      calls.count += 1;
      return { content: [{ type: 'text', text: `call ${calls.count}` }] };
    });
    server.registerTool(
      'huge',
      {
        description: 'Returns `chars` two-byte characters, as text and as structured content.',
        inputSchema: { chars: z.number().int() },
        outputSchema: { text: z.string() },
      },
      ({ chars }) => {
        const text = 'é'.repeat(chars);
        return { content: [{ type: 'text', text }], structuredContent: { text } };
      },
    );
    return server;
  };
  return { name: 'limits', transport: { type: 'in-memory', createServer } };
}

describe('Hard caps on the agent loop', () => {
  let h: ChatHarness;
  const calls = { count: 0 };

  beforeAll(async () => {
    h = await startChatHarness({
      env: {
        CHAT_TOOL_RESULT_MAX_BYTES: String(TOOL_RESULT_MAX_BYTES),
        CHAT_MODEL_REQUEST_MAX_BYTES: String(MODEL_REQUEST_MAX_BYTES),
        // The window is not what bounds a request here: the request cap is.
        CHAT_CONTEXT_TOKEN_BUDGET: '1000000',
      },
      servers: [IN_MEMORY_ECHO, limitsServer(calls)],
    });
  });
  afterAll(() => h.close());
  beforeEach(() => {
    h.sim.reset();
    calls.count = 0;
  });

  const storedAnswer = async (userId: string) => {
    const [row] = await h.t.dataSource.query(
      `SELECT jsonb_array_length(tool_calls) AS calls, octet_length(tool_calls::text) AS bytes, tool_calls
       FROM messages WHERE user_id = $1 AND role = 'assistant'`,
      [userId],
    );
    return row as { calls: number; bytes: number; tool_calls: { result: unknown }[] };
  };

  it('runs only CHAT_MAX_TOOL_CALLS_PER_ROUND of 1,000 calls in one round and answers every other with a tool error', async () => {
    const userId = newUserId();
    const toolUses = Array.from({ length: 1000 }, (_, i) => ({ name: 'count', input: {}, id: `toolu_${i}` }));
    h.sim.enqueue({ kind: 'tool_use', calls: toolUses }, { kind: 'text', text: 'Counted.' });

    const response = await h.send({ message: 'call it a thousand times' }, userId);

    expect(response.statusCode).toBe(200);
    expect(calls.count).toBe(16);
    expect(response.json().tool_calls).toHaveLength(16);
    const results = h.sim.requests[1].body.messages.at(-1).content as {
      tool_use_id: string;
      is_error?: boolean;
      content: string;
    }[];
    expect(results.map((result) => result.tool_use_id)).toEqual(toolUses.map((use) => use.id));
    const refused = results.filter((result) => result.is_error);
    expect(refused).toHaveLength(984);
    expect(refused[0].content).toMatch(/not run.*16 tool calls/i);
    const stored = await storedAnswer(userId);
    expect(stored.calls).toBe(16);
    expect(stored.bytes).toBeLessThan(16 * 1024);
  });

  it('cuts a huge tool result on a character boundary, says so, and stores only what was kept', async () => {
    const userId = newUserId();
    const chars = 500_000; // 1,000,000 bytes of UTF-8
    h.sim.enqueue(
      { kind: 'tool_use', calls: [{ name: 'huge', input: { chars }, id: 'toolu_huge' }] },
      { kind: 'text', text: 'That was long.' },
    );

    const response = await h.send({ message: 'give me everything' }, userId);

    expect(response.statusCode).toBe(200);
    const seen = h.sim.requests[1].body.messages.at(-1).content[0].content as string;
    expect(Buffer.byteLength(seen)).toBeLessThanOrEqual(TOOL_RESULT_MAX_BYTES);
    expect(seen).toMatch(/^é+\n\[cut/);
    expect(seen).toMatch(/of 1000000 bytes/);
    expect(seen).not.toContain('\uFFFD');
    const [call] = response.json().tool_calls;
    expect(call.result).toBe(seen);
    const stored = await storedAnswer(userId);
    expect(stored.tool_calls[0].result).toBe(seen);
    expect(stored.bytes).toBeLessThan(TOOL_RESULT_MAX_BYTES + 1024);
  });

  it('fails the turn with 502 model_request_too_large, sending nothing, when the context is over the request cap', async () => {
    const userId = newUserId();
    const conversation = await insertConversation(h.t.dataSource, { userId, messageCount: 2 });
    const long = 'a long earlier answer '.repeat(60_000); // 1.3 MB, over the 1 MiB cap
    await h.t.dataSource.query(
      `INSERT INTO messages (conversation_id, user_id, seq, role, content, status)
       VALUES ($1, $2, 1, 'user', 'tell me everything', 'completed'), ($1, $2, 2, 'assistant', $3, 'completed')`,
      [conversation.id, userId, long],
    );

    const response = await h.send({ message: 'and more', conversation_id: conversation.id }, userId);

    expect(response.statusCode).toBe(502);
    expect(response.json()).toMatchObject({
      code: 'model_request_too_large',
      conversation_id: conversation.id,
      user_message_id: expect.any(String),
    });
    expect(h.sim.requests).toHaveLength(0);
    const [message] = await h.t.dataSource.query(
      `SELECT status, error_code FROM messages WHERE conversation_id = $1 AND seq = 3`,
      [conversation.id],
    );
    expect(message).toEqual({ status: 'failed', error_code: 'model_request_too_large' });
  });
});
