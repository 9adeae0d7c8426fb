import { startChatHarness, type ChatHarness } from './support/chat-harness';

describe('GET /metrics', () => {
  let h: ChatHarness;
  beforeAll(async () => {
    h = await startChatHarness();
  });
  afterAll(() => h.close());

  const scrape = async () => {
    const response = await h.t.app.inject({ method: 'GET', url: '/metrics' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toContain('text/plain');
    return response.body;
  };

  it('reports turn, model, tool and database latency, tokens by kind, and errors by code', async () => {
    h.sim.enqueue(
      {
        kind: 'tool_use',
        calls: [{ name: 'echo', input: { text: 'm' } }],
        usage: { input_tokens: 100, output_tokens: 10 },
      },
      { kind: 'text', text: 'ok', usage: { input_tokens: 120, output_tokens: 5, cache_read_input_tokens: 90 } },
    );
    expect((await h.send({ message: 'measure me' })).statusCode).toBe(200);
    expect((await h.send({ message: '' })).statusCode).toBe(400);

    const body = await scrape();

    expect(body).toContain('chat_turn_duration_seconds_count{outcome="completed"} 1');
    expect(body).toContain('model_request_duration_seconds_count{outcome="ok"} 2');
    expect(body).toContain('tool_call_duration_seconds_count{server="echo",is_error="false"} 1');
    expect(body).toMatch(/database_operation_duration_seconds_count\{operation="complete_turn"\} 1/);
    expect(body).toContain('model_tokens_total{kind="input"} 220');
    expect(body).toContain('model_tokens_total{kind="cache_read"} 90');
    expect(body).toContain('http_errors_total{code="validation_failed"} 1');
    expect(body).toMatch(
      /http_request_duration_seconds_count\{method="POST",route="\/api\/:user_id\/chat",status="200"\} 1/,
    );
    expect(body).toContain('nodejs_heap_size_used_bytes');
  });
});
