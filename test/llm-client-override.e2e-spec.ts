import { LlmClient } from '../src/agent/llm/llm-client';
import { MCP_SERVER_DEFINITIONS } from '../src/agent/mcp/mcp-server-definition';
import { FakeLlmClient, textAnswer } from './support/fake-llm-client';
import { createTestApp, newUserId, type TestApp } from './support/test-app';

describe('LlmClient swapped by its token', () => {
  const llm = new FakeLlmClient();
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({
      customize: (builder) =>
        builder.overrideProvider(LlmClient).useValue(llm).overrideProvider(MCP_SERVER_DEFINITIONS).useValue([]),
    });
  });
  afterAll(() => t.close());

  it('answers a chat turn with the scripted reply and records what the app sent', async () => {
    const userId = newUserId();
    llm.reply(textAnswer('Scripted hello'));

    const response = await t.app.inject({
      method: 'POST',
      url: `/api/${userId}/chat`,
      headers: t.authHeaders(userId),
      payload: { message: 'Hi there' },
    });

    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ response: 'Scripted hello', stop_reason: 'end_turn' });
    expect(llm.lastRequest.messages.at(-1)).toMatchObject({
      role: 'user',
      content: [{ type: 'text', text: 'Hi there' }],
    });
  });
});
