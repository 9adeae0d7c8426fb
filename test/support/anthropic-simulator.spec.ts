import Anthropic, { type APIError, type ClientOptions } from '@anthropic-ai/sdk';
import { AnthropicSimulator, estimateInputTokens, estimateTokens, type SimReply } from './anthropic-simulator';

const MODEL = 'claude-sonnet-5-5';

const ask = (content: Anthropic.MessageParam['content'] = 'hello') => ({
  model: MODEL,
  max_tokens: 256,
  messages: [{ role: 'user' as const, content }],
});

const rawPost = (sim: AnthropicSimulator, path: string, body: string, headers: Record<string, string> = {}) =>
  fetch(`${sim.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': 'test', ...headers },
    body,
  });

describe(AnthropicSimulator.name, () => {
  let sim: AnthropicSimulator;
  // Retries off unless a test is about them, so failures surface at once.
  const client = (options: ClientOptions = {}) =>
    new Anthropic({ apiKey: 'test', baseURL: sim.url, maxRetries: 0, ...options });

  beforeAll(async () => {
    sim = await AnthropicSimulator.start();
  });
  afterEach(() => sim.reset());
  afterAll(() => sim.close());

  describe('success replies', () => {
    it('round-trips a scripted text reply with its stop reason and usage (non-stream)', async () => {
      sim.enqueue({ kind: 'text', text: 'Hi there', stopReason: 'max_tokens', usage: { cache_read_input_tokens: 7 } });
      const params = { ...ask(), system: 'Be brief.' };

      const message = await client().messages.create(params);

      expect(message).toMatchObject({
        type: 'message',
        role: 'assistant',
        model: MODEL,
        content: [{ type: 'text', text: 'Hi there' }],
        stop_reason: 'max_tokens',
        stop_sequence: null,
        usage: {
          input_tokens: estimateInputTokens(params),
          output_tokens: estimateTokens('Hi there'),
          cache_read_input_tokens: 7,
          cache_creation_input_tokens: 0,
        },
      });
      expect(message.id).toMatch(/^msg_/);
    });

    it('streams text as several deltas that add up to the final message', async () => {
      const text = 'The quick brown fox jumps over the lazy dog, twice over.';
      sim.enqueue({ kind: 'text', text });
      const deltas: string[] = [];

      const stream = client()
        .messages.stream(ask())
        .on('text', (delta) => deltas.push(delta));
      const message = await stream.finalMessage();

      expect(deltas.length).toBeGreaterThan(1);
      expect(deltas.join('')).toBe(text);
      expect(message.content).toEqual([{ type: 'text', text }]);
      expect(message.stop_reason).toBe('end_turn');
      expect(message.usage).toMatchObject({
        input_tokens: estimateInputTokens(ask()),
        output_tokens: estimateTokens(text),
      });
    });

    it('streams the first part of a held_text reply at once and the rest only once released', async () => {
      let release!: () => void;
      sim.enqueue({
        kind: 'held_text',
        text: 'Before. ',
        release: new Promise<void>((r) => (release = r)),
        rest: 'After.',
      });
      const deltas: string[] = [];
      const stream = client()
        .messages.stream(ask())
        .on('text', (delta) => {
          deltas.push(delta);
          if (deltas.join('') === 'Before. ') release();
        });

      const message = await stream.finalMessage();

      expect(deltas.join('')).toBe('Before. After.');
      expect(message.content).toEqual([{ type: 'text', text: 'Before. After.' }]);
      expect(message.stop_reason).toBe('end_turn');
    });

    it('answers a held_text reply to a non-stream request once released', async () => {
      sim.enqueue({ kind: 'held_text', text: 'Whole ', release: Promise.resolve(), rest: 'message.' });

      const message = await client().messages.create(ask());

      expect(message.content).toEqual([{ type: 'text', text: 'Whole message.' }]);
    });

    it('keeps a surrogate pair whole when splitting streamed text', async () => {
      const text = 'ab😀cd😀ef😀';
      sim.enqueue({ kind: 'text', text });
      const deltas: string[] = [];

      await client()
        .messages.stream(ask())
        .on('text', (delta) => deltas.push(delta))
        .finalMessage();

      expect(deltas.join('')).toBe(text);
      expect(deltas.some((delta) => /^[\uDC00-\uDFFF]/.test(delta))).toBe(false); // no delta starts mid-pair
    });

    const toolInput = {
      city: 'Zürich',
      days: [1, 2, 3],
      options: { units: 'metric', detail: null, nested: [{ a: true }] },
    };
    const toolReply: SimReply = {
      kind: 'tool_use',
      text: 'Let me check.',
      calls: [
        { name: 'get_weather', input: toolInput, id: 'toolu_fixed' },
        { name: 'get_time', input: {} },
      ],
    };

    it('gives the exact tool input for a tool_use reply (non-stream)', async () => {
      sim.enqueue(toolReply);

      const message = await client().messages.create(ask());

      expect(message.stop_reason).toBe('tool_use');
      expect(message.content).toEqual([
        { type: 'text', text: 'Let me check.' },
        { type: 'tool_use', id: 'toolu_fixed', name: 'get_weather', input: toolInput },
        { type: 'tool_use', id: expect.stringMatching(/^toolu_/), name: 'get_time', input: {} },
      ]);
    });

    it('gives the exact tool input for a tool_use reply, streamed as several input_json deltas', async () => {
      sim.enqueue(toolReply);
      const jsonDeltas: string[] = [];

      const stream = client()
        .messages.stream(ask())
        .on('inputJson', (partial) => jsonDeltas.push(partial));
      const message = await stream.finalMessage();

      expect(message.stop_reason).toBe('tool_use');
      expect(message.content[0]).toEqual({ type: 'text', text: 'Let me check.' });
      expect(message.content[1]).toMatchObject({ type: 'tool_use', id: 'toolu_fixed', name: 'get_weather' });
      expect((message.content[1] as Anthropic.ToolUseBlock).input).toEqual(toolInput);
      expect((message.content[2] as Anthropic.ToolUseBlock).input).toEqual({});
      expect(jsonDeltas.length).toBeGreaterThan(2);
    });

    it('paces a streamed text reply: the first delta firstDeltaMs after the opening frames, onDelta just before each', async () => {
      const text = 'abcdefghijklmnopqrstuvwxyz0123456789';
      const written: { index: number; at: number }[] = [];
      const onDelta = (index: number) => written.push({ index, at: performance.now() });
      sim.enqueue({ kind: 'text', text, pace: { deltas: 6, firstDeltaMs: 60, intervalMs: 20, onDelta } });
      const received: { text: string; at: number }[] = [];
      let openedAt = Number.NaN;
      const sentAt = performance.now();

      const stream = client()
        .messages.stream(ask())
        .on('streamEvent', (event) => {
          if (event.type === 'content_block_start') openedAt = performance.now();
        })
        .on('text', (delta) => received.push({ text: delta, at: performance.now() }));
      const message = await stream.finalMessage();

      expect(received.map((delta) => delta.text)).toEqual(['abcdef', 'ghijkl', 'mnopqr', 'stuvwx', 'yz0123', '456789']);
      expect(message.content).toEqual([{ type: 'text', text }]);
      expect(written.map((delta) => delta.index)).toEqual([0, 1, 2, 3, 4, 5]);
      expect(written[0].at - sentAt).toBeGreaterThanOrEqual(55);
      expect(openedAt).toBeLessThan(written[0].at); // the opening frames went out before the wait
      written.forEach(({ at }, i) => {
        expect(received[i].at).toBeGreaterThanOrEqual(at);
        if (i > 0) expect(at - written[i - 1].at).toBeGreaterThanOrEqual(15);
      });
    });

    it('answers a paced reply to a non-stream request at once, in one message', async () => {
      const onDelta = jest.fn();
      sim.enqueue({
        kind: 'text',
        text: 'whole',
        pace: { deltas: 5, firstDeltaMs: 5_000, intervalMs: 5_000, onDelta },
      });
      const started = performance.now();

      const message = await client().messages.create(ask());

      expect(message.content).toEqual([{ type: 'text', text: 'whole' }]);
      expect(performance.now() - started).toBeLessThan(2_000);
      expect(onDelta).not.toHaveBeenCalled();
    });

    it('sets stop_sequence to the first requested stop sequence when the reply stops on one', async () => {
      sim.enqueue({ kind: 'text', text: 'one, two', stopReason: 'stop_sequence' });

      const message = await client().messages.create({ ...ask(), stop_sequences: ['three', 'four'] });

      expect(message).toMatchObject({ stop_reason: 'stop_sequence', stop_sequence: 'three' });
    });
  });

  describe('default reply', () => {
    it('echoes the text of the last user message', async () => {
      const message = await client().messages.create({
        model: MODEL,
        max_tokens: 64,
        messages: [
          { role: 'user', content: 'first' },
          { role: 'assistant', content: 'ok' },
          { role: 'user', content: 'second' },
        ],
      });

      expect(message.content).toEqual([{ type: 'text', text: 'Echo: second' }]);
      expect(message.stop_reason).toBe('end_turn');
    });

    it('echoes the text blocks when the last user content is an array', async () => {
      const message = await client().messages.create(
        ask([
          { type: 'text', text: 'line one' },
          { type: 'text', text: 'line two' },
        ]),
      );

      expect(message.content).toEqual([{ type: 'text', text: 'Echo: line one\nline two' }]);
    });

    it('answers Done. when the last user message only carries tool results', async () => {
      const message = await client().messages.create(
        ask([{ type: 'tool_result', tool_use_id: 'toolu_1', content: '42' }]),
      );

      expect(message.content).toEqual([{ type: 'text', text: 'Done.' }]);
    });

    it('uses the responder when the script is empty, and the script first when it is not', async () => {
      sim.respondWith((request) => ({ kind: 'text', text: `responder saw ${request.body.messages.length}` }));
      sim.enqueue({ kind: 'text', text: 'scripted' });

      const first = await client().messages.create(ask());
      const second = await client().messages.create(ask());

      expect(first.content).toEqual([{ type: 'text', text: 'scripted' }]);
      expect(second.content).toEqual([{ type: 'text', text: 'responder saw 1' }]);
    });

    it('falls back to the echo when the responder returns undefined', async () => {
      sim.respondWith(() => undefined);

      const message = await client().messages.create(ask('ping'));

      expect(message.content).toEqual([{ type: 'text', text: 'Echo: ping' }]);
    });
  });

  describe('errors and retries', () => {
    it('lets the SDK retry a scripted 529 and then succeed', async () => {
      sim.enqueue(
        { kind: 'error', status: 529, type: 'overloaded_error', retryAfterSeconds: 0.01 },
        { kind: 'text', text: 'ok' },
      );

      const message = await client({ maxRetries: 2 }).messages.create(ask());

      expect(message.content).toEqual([{ type: 'text', text: 'ok' }]);
      expect(sim.requests).toHaveLength(2);
      expect(sim.requests[1].headers['x-stainless-retry-count']).toBe('1');
    });

    it('makes the SDK wait retry-after seconds before retrying', async () => {
      sim.enqueue({ kind: 'error', status: 429, type: 'rate_limit_error', retryAfterSeconds: 1 });

      await client({ maxRetries: 1 }).messages.create(ask());

      expect(sim.requests).toHaveLength(2);
      expect(sim.requests[1].receivedAt - sim.requests[0].receivedAt).toBeGreaterThanOrEqual(900);
    });

    it('surfaces a 429 as RateLimitError once retries are exhausted', async () => {
      const rateLimited: SimReply = { kind: 'error', status: 429, type: 'rate_limit_error', retryAfterSeconds: 0.01 };
      sim.enqueue(rateLimited, rateLimited);

      const failure = client({ maxRetries: 1 }).messages.create(ask());

      await expect(failure).rejects.toBeInstanceOf(Anthropic.RateLimitError);
      await expect(failure).rejects.toMatchObject({ status: 429, type: 'rate_limit_error' });
      expect(sim.requests).toHaveLength(2);
    });

    it('surfaces a scripted 400 as BadRequestError with its message and request id, without retrying', async () => {
      sim.enqueue({ kind: 'error', status: 400, type: 'invalid_request_error', message: 'prompt is too long' });

      const failure = client({ maxRetries: 2 }).messages.create(ask());

      await expect(failure).rejects.toBeInstanceOf(Anthropic.BadRequestError);
      await expect(failure).rejects.toMatchObject({
        apiMessage: 'prompt is too long',
        requestID: expect.stringMatching(/^req_/),
      });
      expect(sim.requests).toHaveLength(1);
    });

    it('answers a stream_error on a non-stream request with the status of its type', async () => {
      sim.enqueue({ kind: 'stream_error', type: 'overloaded_error' });

      await expect(client().messages.create(ask())).rejects.toMatchObject({ status: 529, type: 'overloaded_error' });
    });

    it('fails a stream mid-way on stream_error with the error type, after the text sent so far, without retrying', async () => {
      sim.enqueue({
        kind: 'stream_error',
        type: 'overloaded_error',
        message: 'Overloaded',
        afterText: 'partial answer',
      });
      const deltas: string[] = [];

      const stream = client({ maxRetries: 2 })
        .messages.stream(ask())
        .on('text', (delta) => deltas.push(delta));

      await expect(stream.finalMessage()).rejects.toMatchObject({ type: 'overloaded_error', apiMessage: 'Overloaded' });
      expect(deltas.join('')).toBe('partial answer');
      expect(sim.requests).toHaveLength(1);
    });
  });

  describe('connection failures', () => {
    it('gives APIConnectionTimeoutError when a stall outlasts the SDK timeout', async () => {
      sim.enqueue({ kind: 'stall', ms: 10_000 });

      await expect(client({ timeout: 100 }).messages.create(ask())).rejects.toBeInstanceOf(
        Anthropic.APIConnectionTimeoutError,
      );
    });

    it('abandons a stall once the client has gone away', async () => {
      const responder = jest.fn(() => undefined);
      sim.enqueue({ kind: 'stall', ms: 150 }).respondWith(responder);

      await expect(client({ timeout: 50 }).messages.create(ask())).rejects.toThrow();
      await new Promise((resolve) => setTimeout(resolve, 250));

      expect(responder).not.toHaveBeenCalled(); // the fallback reply was never built
    });

    it('lets a client abort a held_text stream while it is held, and goes on answering', async () => {
      sim.enqueue({ kind: 'held_text', text: 'Held', release: new Promise(() => undefined) });
      const abort = new AbortController();
      const stream = client().messages.stream(ask(), { signal: abort.signal });
      stream.on('text', () => abort.abort());

      await expect(stream.finalMessage()).rejects.toThrow();
      await expect(rawPost(sim, '/v1/messages', JSON.stringify(ask())).then((r) => r.status)).resolves.toBe(200);
    });

    it('answers the then reply after a short stall', async () => {
      sim.enqueue({ kind: 'stall', ms: 50, then: { kind: 'text', text: 'late' } });
      const started = Date.now();

      const message = await client().messages.create(ask());

      expect(message.content).toEqual([{ type: 'text', text: 'late' }]);
      expect(Date.now() - started).toBeGreaterThanOrEqual(45);
    });

    it('gives APIConnectionError when the simulator drops the connection', async () => {
      sim.enqueue({ kind: 'disconnect' });

      const failure = client().messages.create(ask());

      await expect(failure).rejects.toBeInstanceOf(Anthropic.APIConnectionError);
      await expect(failure).rejects.not.toBeInstanceOf(Anthropic.APIConnectionTimeoutError);
    });

    it('lets the SDK retry a dropped connection', async () => {
      sim.enqueue({ kind: 'disconnect' });

      const message = await client({ maxRetries: 1 }).messages.create(ask('again'));

      expect(message.content).toEqual([{ type: 'text', text: 'Echo: again' }]);
      expect(sim.requests).toHaveLength(2);
    });
  });

  describe('wire format', () => {
    it('records the body the client sent, tools and system included', async () => {
      const tools: Anthropic.Tool[] = [
        {
          name: 'lookup',
          description: 'Look a word up',
          input_schema: { type: 'object', properties: { q: { type: 'string' } } },
        },
      ];

      await client().messages.create({ ...ask('define x'), system: 'You are a dictionary.', tools });

      expect(sim.requests).toHaveLength(1);
      expect(sim.requests[0]).toMatchObject({
        method: 'POST',
        path: '/v1/messages',
        body: {
          model: MODEL,
          max_tokens: 256,
          system: 'You are a dictionary.',
          tools,
          messages: ask('define x').messages,
        },
      });
      expect(sim.requests[0].headers.authorization).toBe('Bearer test'); // how SDK 1.x sends apiKey
    });

    it('answers a malformed reply with the message a text reply would give, fields replaced or dropped', async () => {
      sim.enqueue({ kind: 'malformed', replace: { content: 'not a list', usage: undefined } });

      const response = await rawPost(sim, '/v1/messages', JSON.stringify(ask()));

      expect(response.status).toBe(200);
      const body = await response.json();
      expect(body).toMatchObject({
        type: 'message',
        role: 'assistant',
        content: 'not a list',
        stop_reason: 'end_turn',
      });
      expect(body).not.toHaveProperty('usage');
    });

    it('exposes a request-id on responses, streams and errors', async () => {
      sim.enqueue(
        { kind: 'text', text: 'a' },
        { kind: 'text', text: 'b' },
        { kind: 'text', text: 'c' },
        { kind: 'error', status: 500, type: 'api_error' },
      );
      const anthropic = client();

      const { response, request_id: requestId } = await anthropic.messages.create(ask()).withResponse();
      const message = await anthropic.messages.create(ask());
      const stream = anthropic.messages.stream(ask());
      await stream.finalMessage();
      const failure = await anthropic.messages.create(ask()).catch((error: unknown) => error);

      expect(requestId).toMatch(/^req_/);
      expect(response.headers.get('request-id')).toBe(requestId);
      expect(message._request_id).toMatch(/^req_/);
      expect(stream.request_id).toMatch(/^req_/);
      expect(failure).toBeInstanceOf(Anthropic.InternalServerError);
      expect((failure as APIError).requestID).toMatch(/^req_/);
    });

    it('rejects an invalid body with 400 invalid_request_error in the real error shape', async () => {
      const response = await rawPost(sim, '/v1/messages', JSON.stringify({ model: MODEL, messages: [] }));

      expect(response.status).toBe(400);
      expect(await response.json()).toEqual({
        type: 'error',
        error: { type: 'invalid_request_error', message: expect.any(String) },
        request_id: response.headers.get('request-id'),
      });
      expect(sim.requests).toHaveLength(1);
    });

    it('rejects a body that is not JSON with 400', async () => {
      const response = await rawPost(sim, '/v1/messages', '{not json');

      expect(response.status).toBe(400);
      expect(sim.requests[0].body).toBe('{not json');
    });

    it('accepts an x-api-key header as well as the SDK bearer token', async () => {
      const response = await rawPost(sim, '/v1/messages', JSON.stringify(ask()));

      expect(response.status).toBe(200);
    });

    it('answers 401 authentication_error when neither x-api-key nor a bearer token is sent', async () => {
      const response = await fetch(`${sim.url}/v1/messages`, { method: 'POST', body: JSON.stringify(ask()) });

      expect(response.status).toBe(401);
      expect(await response.json()).toMatchObject({ type: 'error', error: { type: 'authentication_error' } });
    });

    it('answers 404 not_found_error for any other path', async () => {
      const response = await rawPost(sim, '/v1/complete', JSON.stringify(ask()));

      expect(response.status).toBe(404);
      expect(response.headers.get('request-id')).toMatch(/^req_/);
      expect(await response.json()).toMatchObject({ type: 'error', error: { type: 'not_found_error' } });
      expect(sim.requests).toHaveLength(0);
    });

    it('does not consume a scripted reply on a request it rejects', async () => {
      sim.enqueue({ kind: 'text', text: 'kept' });

      await rawPost(sim, '/v1/messages', '{}');
      const message = await client().messages.create(ask());

      expect(message.content).toEqual([{ type: 'text', text: 'kept' }]);
    });

    it('sends every SSE frame with an event line, in the real order', async () => {
      sim.enqueue({ kind: 'text', text: 'hi' });

      const response = await rawPost(sim, '/v1/messages', JSON.stringify({ ...ask(), stream: true }));
      const frames = (await response.text()).trim().split('\n\n');

      expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
      expect(frames.every((frame) => /^event: \w+\ndata: \{.*\}$/.test(frame))).toBe(true);
      expect(frames.map((frame) => frame.slice('event: '.length, frame.indexOf('\n')))).toEqual([
        'message_start',
        'ping',
        'content_block_start',
        'content_block_delta',
        'content_block_delta',
        'content_block_stop',
        'message_delta',
        'message_stop',
      ]);
    });

    it('waits delayMs before each answer', async () => {
      const slow = await AnthropicSimulator.start({ delayMs: 100 });
      try {
        const started = Date.now();
        await new Anthropic({ apiKey: 'test', baseURL: slow.url, maxRetries: 0 }).messages.create(ask());
        expect(Date.now() - started).toBeGreaterThanOrEqual(95);
      } finally {
        await slow.close();
      }
    });
  });
});
