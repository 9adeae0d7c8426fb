import { randomUUID } from 'node:crypto';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';

/**
 * A local stand-in for the Anthropic Messages API (`POST /v1/messages`) that speaks its wire format, so the real
 * `@anthropic-ai/sdk` (streaming helpers and retries included) runs against it unchanged: pass `sim.url` as `baseURL`.
 */

export type SimStopReason =
  'end_turn' | 'tool_use' | 'max_tokens' | 'pause_turn' | 'refusal' | 'model_context_window_exceeded' | 'stop_sequence';

export interface SimUsage {
  input_tokens: number;
  output_tokens: number;
  cache_read_input_tokens: number;
  cache_creation_input_tokens: number;
}

/**
 * A streamed text reply spread over time, for latency benchmarks: the opening frames at once, then the text as
 * `deltas` deltas, the first `firstDeltaMs` later and the next ones `intervalMs` apart. `onDelta(index)` runs
 * just before delta `index` is written: the instant the model sent it. A non-stream request gets the message at once.
 */
export interface SimPace {
  deltas: number;
  firstDeltaMs: number;
  intervalMs: number;
  onDelta?: (index: number) => void;
}

export type SimReply =
  | { kind: 'text'; text: string; stopReason?: SimStopReason; usage?: Partial<SimUsage>; pace?: SimPace }
  | {
      kind: 'tool_use';
      calls: { name: string; input: unknown; id?: string }[];
      text?: string;
      usage?: Partial<SimUsage>;
    }
  | { kind: 'error'; status: number; type: string; message?: string; retryAfterSeconds?: number }
  | { kind: 'stream_error'; type: string; message?: string; afterText?: string }
  | { kind: 'stall'; ms: number; then?: SimReply }
  /**
   * A model that pauses mid-answer: streams `text`, holds the stream open until `release` settles, then streams
   * `rest` and ends (a non-stream request gets the whole message once released). A client that goes away first
   * gets nothing more.
   */
  | { kind: 'held_text'; text: string; release: Promise<unknown>; rest?: string }
  | { kind: 'disconnect' }
  /**
   * A 200 JSON message (also to a stream request) that breaks the wire format: the message a `text` reply
   * would give, with `replace`'s fields in place of its own (`undefined` drops one).
   */
  | { kind: 'malformed'; replace: Record<string, unknown> };

export interface RecordedRequest {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read whatever the client sent
  body: any;
  receivedAt: number;
}

export type SimResponder = (request: RecordedRequest) => SimReply | undefined;

export interface AnthropicSimulatorOptions {
  /** 0 (the default) picks a free port. */
  port?: number;
  host?: string;
  /** Fixed delay before every answer to `/v1/messages`, on top of any scripted stall. */
  delayMs?: number;
}

type TextBlock = { type: 'text'; text: string };
type ToolUseBlock = { type: 'tool_use'; id: string; name: string; input: unknown };
type ContentBlock = TextBlock | ToolUseBlock;

interface SimMessage {
  id: string;
  type: 'message';
  role: 'assistant';
  model: string;
  content: ContentBlock[];
  stop_reason: SimStopReason;
  stop_sequence: string | null;
  usage: SimUsage;
}

/** The fields the simulator reads, once `invalidRequestReason` has accepted the body. */
interface MessagesBody {
  model: string;
  max_tokens: number;
  messages: { role?: unknown; content?: unknown }[];
  system?: unknown;
  tools?: unknown;
  stream?: unknown;
  stop_sequences?: unknown;
}

const MESSAGES_PATH = '/v1/messages';
const MAX_BODY_BYTES = 32 * 1024 * 1024; // the real API's request size limit
// Keeps benchmark sockets open across idle gaps; undici honours the `Keep-Alive: timeout` hint and closes first.
const KEEP_ALIVE_MS = 65_000;
const DELTAS_PER_BLOCK = 4;

/** The HTTP status the real API uses for each error type (for a `stream_error` asked of a non-stream request). */
const STATUS_BY_ERROR_TYPE: Record<string, number> = {
  invalid_request_error: 400,
  authentication_error: 401,
  billing_error: 402,
  permission_error: 403,
  not_found_error: 404,
  conflict_error: 409,
  request_too_large: 413,
  rate_limit_error: 429,
  api_error: 500,
  timeout_error: 504,
  overloaded_error: 529,
};

/** Deterministic token estimate: one token per 4 UTF-16 characters, rounded up. */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

/** The simulator's `usage.input_tokens` for a request body: the estimate of its system, messages and tools as JSON. */
export function estimateInputTokens(body: { system?: unknown; messages?: unknown; tools?: unknown }): number {
  return estimateTokens(JSON.stringify({ system: body.system, messages: body.messages, tools: body.tools }));
}

export class AnthropicSimulator {
  readonly requests: RecordedRequest[] = [];
  private queue: SimReply[] = [];
  private responder: SimResponder | undefined;

  private constructor(
    /** Exposed so the bench can time each exchange from its headers to the end of the answer. */
    readonly server: Server,
    readonly url: string,
    private readonly delayMs: number,
  ) {
    server.on('request', (req: IncomingMessage, res: ServerResponse) => void this.handle(req, res));
  }

  static async start(options: AnthropicSimulatorOptions = {}): Promise<AnthropicSimulator> {
    const host = options.host ?? '127.0.0.1';
    const server = createServer();
    server.keepAliveTimeout = KEEP_ALIVE_MS;
    server.headersTimeout = KEEP_ALIVE_MS + 1_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const { port } = server.address() as AddressInfo;
    const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`; // IPv6 literals need brackets
    return new AnthropicSimulator(server, url, options.delayMs ?? 0);
  }

  /** Scripts the next answers, first in first out; each `/v1/messages` request that passes validation takes one. */
  enqueue(...replies: SimReply[]): this {
    this.queue.push(...replies);
    return this;
  }

  /** Answers requests when the script is empty; returning undefined falls back to the echo reply. */
  respondWith(responder: SimResponder | undefined): this {
    this.responder = responder;
    return this;
  }

  reset(): this {
    this.queue = [];
    this.responder = undefined;
    this.requests.length = 0;
    return this;
  }

  /** Stops listening and drops every connection, including keep-alive and stalled ones. */
  close(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.close((error) => (error ? reject(error) : resolve()));
      this.server.closeAllConnections();
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestId = newId('req_');
    res.setHeader('request-id', requestId);
    const path = (req.url ?? '/').split('?')[0]; // the SDK's beta resources add `?beta=true`
    if (req.method !== 'POST' || path !== MESSAGES_PATH) {
      req.resume();
      return sendError(res, requestId, 404, 'not_found_error', `${req.method} ${path} not found`);
    }
    try {
      const raw = await readBody(req);
      const recorded: RecordedRequest = {
        method: req.method,
        path,
        headers: req.headers,
        body: raw === undefined ? undefined : parseJson(raw),
        receivedAt: Date.now(),
      };
      this.requests.push(recorded);
      if (this.delayMs > 0 && !(await waitUnlessClosed(res, this.delayMs))) return;
      if (!hasCredentials(req)) {
        return sendError(res, requestId, 401, 'authentication_error', 'x-api-key or Authorization header is required');
      }
      if (raw === undefined) {
        return sendError(res, requestId, 413, 'request_too_large', `Request exceeds the maximum size`);
      }
      const invalid = invalidRequestReason(recorded.body);
      if (invalid) return sendError(res, requestId, 400, 'invalid_request_error', invalid);
      const reply = this.queue.shift() ?? this.fallback(recorded);
      await this.answer(res, requestId, recorded, reply);
    } catch (error) {
      // A throwing responder is a test bug: say so at once instead of letting the SDK retry it.
      if (res.headersSent || res.destroyed) return;
      res.setHeader('x-should-retry', 'false');
      sendError(res, requestId, 500, 'api_error', `Simulator failure: ${(error as Error).message}`);
    }
  }

  private fallback(request: RecordedRequest): SimReply {
    return this.responder?.(request) ?? echoReply(request.body as MessagesBody);
  }

  private async answer(
    res: ServerResponse,
    requestId: string,
    request: RecordedRequest,
    reply: SimReply,
  ): Promise<void> {
    const body = request.body as MessagesBody;
    switch (reply.kind) {
      case 'text':
      case 'tool_use': {
        const message = buildMessage(reply, body);
        if (body.stream !== true) return sendJson(res, 200, message);
        if (reply.kind === 'text' && reply.pace) return sendPacedStream(res, message, reply.pace);
        return sendStream(res, streamFrames(message));
      }
      case 'error':
        return sendError(res, requestId, reply.status, reply.type, reply.message, reply.retryAfterSeconds);
      case 'stream_error':
        if (body.stream === true) return sendStream(res, streamErrorFrames(reply, body));
        return sendError(res, requestId, STATUS_BY_ERROR_TYPE[reply.type] ?? 500, reply.type, reply.message);
      case 'stall':
        if (!(await waitUnlessClosed(res, reply.ms))) return;
        return this.answer(res, requestId, request, reply.then ?? this.fallback(request));
      case 'held_text':
        return sendHeldText(res, reply, body);
      case 'disconnect':
        res.socket?.destroy();
        return;
      case 'malformed':
        return sendJson(res, 200, { ...buildMessage({ kind: 'text', text: 'Malformed.' }, body), ...reply.replace });
    }
  }
}

function newId(prefix: string): string {
  return prefix + randomUUID().replaceAll('-', '');
}

/** The whole body as text, or undefined when it is over the size limit. */
function readBody(req: IncomingMessage): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    req.on('end', () => resolve(size > MAX_BODY_BYTES ? undefined : Buffer.concat(chunks, size).toString('utf8')));
    req.on('error', reject);
  });
}

/** SDK 1.x sends its API key as `Authorization: Bearer`; other clients still send `x-api-key`. */
function hasCredentials(req: IncomingMessage): boolean {
  return Boolean(req.headers['x-api-key']) || /^Bearer \S/.test(req.headers.authorization ?? '');
}

/** Parsed JSON, or the raw text when it is not JSON (recorded as sent, then rejected with a 400). */
function parseJson(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}

function invalidRequestReason(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return 'Request body must be a JSON object';
  const { model, max_tokens: maxTokens, messages } = body as Record<string, unknown>;
  if (typeof model !== 'string') return 'model: Field required';
  if (typeof maxTokens !== 'number' || !Number.isInteger(maxTokens) || maxTokens < 1) {
    return 'max_tokens: Input should be an integer greater than or equal to 1';
  }
  if (!Array.isArray(messages) || messages.length === 0) return 'messages: at least one message is required';
  return undefined;
}

/** `Echo: <last user text>`, or `Done.` when the last user turn only carries tool results. */
function echoReply(body: MessagesBody): SimReply {
  const content = body.messages.findLast((message) => message?.role === 'user')?.content;
  if (typeof content === 'string') return { kind: 'text', text: `Echo: ${content}` };
  const blocks = (Array.isArray(content) ? content : []) as { type?: unknown; text?: unknown }[];
  const onlyToolResults = blocks.length > 0 && blocks.every((block) => block?.type === 'tool_result');
  if (onlyToolResults) return { kind: 'text', text: 'Done.' };
  const text = blocks.flatMap((block) =>
    block?.type === 'text' && typeof block.text === 'string' ? [block.text] : [],
  );
  return { kind: 'text', text: `Echo: ${text.join('\n')}` };
}

function buildMessage(reply: Extract<SimReply, { kind: 'text' | 'tool_use' }>, body: MessagesBody): SimMessage {
  const text = reply.text ?? '';
  const calls = reply.kind === 'tool_use' ? reply.calls : [];
  const content: ContentBlock[] = text || reply.kind === 'text' ? [{ type: 'text', text }] : [];
  for (const call of calls) {
    content.push({ type: 'tool_use', id: call.id ?? newId('toolu_'), name: call.name, input: call.input ?? {} });
  }
  const stopReason = reply.kind === 'tool_use' ? 'tool_use' : (reply.stopReason ?? 'end_turn');
  // Output tokens count what the model "wrote": the text plus each call's name and JSON input.
  const written = text + calls.map((call) => call.name + JSON.stringify(call.input ?? {})).join('');
  return {
    id: newId('msg_'),
    type: 'message',
    role: 'assistant',
    model: body.model,
    content,
    stop_reason: stopReason,
    stop_sequence: stopReason === 'stop_sequence' ? firstStopSequence(body) : null,
    usage: {
      input_tokens: estimateInputTokens(body),
      output_tokens: estimateTokens(written),
      cache_read_input_tokens: 0,
      cache_creation_input_tokens: 0,
      ...reply.usage,
    },
  };
}

function firstStopSequence(body: MessagesBody): string | null {
  const [first] = Array.isArray(body.stop_sequences) ? body.stop_sequences : [];
  return typeof first === 'string' ? first : null;
}

function sseFrame(event: string, data: object): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

/** message_start (empty content, input usage), ping, then the blocks as deltas, message_delta and message_stop. */
function streamFrames(message: SimMessage): string {
  return [
    ...messageStartFrames(message),
    ...message.content.flatMap((block, index) => [...blockOpeningFrames(block, index), blockStopFrame(index)]),
    ...messageEndFrames(message),
  ].join('');
}

/** streamFrames of a one-text-block message, written delta by delta at the pace asked. */
async function sendPacedStream(res: ServerResponse, message: SimMessage, pace: SimPace): Promise<void> {
  if (res.destroyed) return;
  const [block] = message.content as [TextBlock]; // a text reply's only block
  const [start, ...deltas] = blockOpeningFrames(block, 0, pace.deltas);
  res.writeHead(200, STREAM_HEADERS).write([...messageStartFrames(message), start].join(''));
  for (const [index, delta] of deltas.entries()) {
    if (!(await waitUnlessClosed(res, index === 0 ? pace.firstDeltaMs : pace.intervalMs))) return;
    pace.onDelta?.(index);
    res.write(delta);
  }
  res.end([blockStopFrame(0), ...messageEndFrames(message)].join(''));
}

/** message_start with no content yet and the input usage, then a ping. */
function messageStartFrames(message: SimMessage): string[] {
  return openingFrames({ ...message, content: [], stop_reason: null, usage: { ...message.usage, output_tokens: 0 } });
}

function messageEndFrames({ stop_reason: stopReason, stop_sequence: stopSequence, usage }: SimMessage): string[] {
  return [
    sseFrame('message_delta', {
      type: 'message_delta',
      delta: { stop_reason: stopReason, stop_sequence: stopSequence },
      usage,
    }),
    sseFrame('message_stop', { type: 'message_stop' }),
  ];
}

/** One text block, written in two parts with the stream held open between them. */
async function sendHeldText(
  res: ServerResponse,
  reply: Extract<SimReply, { kind: 'held_text' }>,
  body: MessagesBody,
): Promise<void> {
  const rest = reply.rest ?? '';
  const message = buildMessage({ kind: 'text', text: reply.text + rest }, body);
  if (body.stream !== true) {
    if (await releasedUnlessClosed(res, reply.release)) sendJson(res, 200, message);
    return;
  }
  if (res.destroyed) return;
  res.writeHead(200, STREAM_HEADERS);
  res.write([...messageStartFrames(message), ...blockOpeningFrames({ type: 'text', text: reply.text }, 0)].join(''));
  if (!(await releasedUnlessClosed(res, reply.release))) return;
  const restDeltas = splitEvenly(rest).map((text) =>
    sseFrame('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text } }),
  );
  res.end([...restDeltas, blockStopFrame(0), ...messageEndFrames(message)].join(''));
}

/** A stream that starts normally, optionally writes some text, then fails the way the real API does mid-stream. */
function streamErrorFrames(reply: Extract<SimReply, { kind: 'stream_error' }>, body: MessagesBody): string {
  const started = buildMessage({ kind: 'text', text: '' }, body);
  const frames = openingFrames({ ...started, content: [], stop_reason: null });
  if (reply.afterText) frames.push(...blockOpeningFrames({ type: 'text', text: reply.afterText }, 0));
  frames.push(sseFrame('error', { type: 'error', error: { type: reply.type, message: errorMessage(reply) } }));
  return frames.join('');
}

function openingFrames(message: Omit<SimMessage, 'stop_reason'> & { stop_reason: null }): string[] {
  return [sseFrame('message_start', { type: 'message_start', message }), sseFrame('ping', { type: 'ping' })];
}

/** content_block_start with an empty block, then its content split over `pieces` deltas. */
function blockOpeningFrames(block: ContentBlock, index: number, pieces = DELTAS_PER_BLOCK): string[] {
  const start = block.type === 'text' ? { type: 'text', text: '' } : { ...block, input: {} };
  const deltas =
    block.type === 'text'
      ? splitEvenly(block.text, pieces).map((text) => ({ type: 'text_delta', text }))
      : splitEvenly(JSON.stringify(block.input), pieces).map((json) => ({
          type: 'input_json_delta',
          partial_json: json,
        }));
  return [
    sseFrame('content_block_start', { type: 'content_block_start', index, content_block: start }),
    ...deltas.map((delta) => sseFrame('content_block_delta', { type: 'content_block_delta', index, delta })),
  ];
}

function blockStopFrame(index: number): string {
  return sseFrame('content_block_stop', { type: 'content_block_stop', index });
}

/** Up to `pieces` pieces (DELTAS_PER_BLOCK unless told), never cutting a surrogate pair. */
function splitEvenly(text: string, pieces = DELTAS_PER_BLOCK): string[] {
  const size = Math.ceil(text.length / pieces);
  const parts: string[] = [];
  for (let start = 0; start < text.length;) {
    let end = Math.min(start + size, text.length);
    if (end < text.length && isLowSurrogate(text.charCodeAt(end))) end++;
    parts.push(text.slice(start, end));
    start = end;
  }
  return parts;
}

function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}

/** Resolves true once `release` settles, or false as soon as the client goes away (then nothing must be written). */
function releasedUnlessClosed(res: ServerResponse, release: Promise<unknown>): Promise<boolean> {
  if (res.destroyed) return Promise.resolve(false);
  return new Promise((resolve) => {
    const onClose = (): void => resolve(false);
    res.once('close', onClose);
    const settled = (): void => {
      res.off('close', onClose);
      resolve(!res.destroyed);
    };
    release.then(settled, settled);
  });
}

/** Resolves true after `ms`, or false as soon as the client goes away (then nothing must be written). */
function waitUnlessClosed(res: ServerResponse, ms: number): Promise<boolean> {
  if (res.destroyed) return Promise.resolve(false);
  return new Promise((resolve) => {
    const onClose = (): void => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      res.off('close', onClose);
      resolve(true);
    }, ms);
    res.once('close', onClose);
  });
}

function sendJson(res: ServerResponse, status: number, payload: object): void {
  if (res.destroyed) return;
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(payload));
}

const STREAM_HEADERS = { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' };

function sendStream(res: ServerResponse, frames: string): void {
  if (res.destroyed) return;
  res.writeHead(200, STREAM_HEADERS).end(frames);
}

function sendError(
  res: ServerResponse,
  requestId: string,
  status: number,
  type: string,
  message?: string,
  retryAfterSeconds?: number,
): void {
  if (retryAfterSeconds !== undefined) res.setHeader('retry-after', String(retryAfterSeconds));
  sendJson(res, status, {
    type: 'error',
    error: { type, message: errorMessage({ type, message }) },
    request_id: requestId,
  });
}

function errorMessage({ type, message }: { type: string; message?: string }): string {
  return message ?? `Simulated ${type}`;
}
