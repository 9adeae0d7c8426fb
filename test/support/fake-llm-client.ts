import Anthropic from '@anthropic-ai/sdk';
import { LlmClient, type LlmCallOptions, type LlmRequest } from '../../src/agent/llm/llm-client';
import { toModelError } from '../../src/agent/llm/llm-errors';

type Message = Anthropic.Messages.Message;
type ContentBlock = Anthropic.Messages.ContentBlock;

/** A stream that sends these text deltas, then hangs until the call's signal aborts. */
export class StalledStream {
  constructor(readonly deltas: readonly string[]) {}
}

/** What the fake answers one request with: a message, a failure to throw, a stalled stream, or a function of the request. */
export type ScriptedReply = Message | Error | StalledStream | ((request: LlmRequest) => Message);

export const FAKE_MODEL = 'fake-model';

/**
 * An `LlmClient` that answers from a script, in order, and records every request as it was sent (a deep
 * copy, so a later change to the loop's arrays cannot rewrite what a request held). Runs in-process, so
 * unit specs of the loop take milliseconds; in an e2e app swap the real one by its token:
 * `customize: (builder) => builder.overrideProvider(LlmClient).useValue(new FakeLlmClient().reply(...))`.
 */
export class FakeLlmClient extends LlmClient {
  readonly requests: LlmRequest[] = [];
  private readonly script: ScriptedReply[] = [];

  constructor(readonly configured = true) {
    super();
  }

  /** Queues the answers of the next requests. */
  reply(...replies: ScriptedReply[]): this {
    this.script.push(...replies);
    return this;
  }

  get lastRequest(): LlmRequest {
    const last = this.requests.at(-1);
    if (!last) throw new Error('FakeLlmClient: no request was made');
    return last;
  }

  async createMessage(request: LlmRequest, options?: LlmCallOptions): Promise<Message> {
    // As the SDK: an aborted signal fails the call before anything is sent.
    if (options?.signal?.aborted) throw aborted(options.signal);
    this.requests.push(structuredClone(request));
    const next = this.script.shift();
    if (next === undefined) throw new Error(`FakeLlmClient: no reply scripted for request ${this.requests.length}`);
    if (next instanceof Error) throw next;
    if (next instanceof StalledStream) return stall(next, options);
    const message = typeof next === 'function' ? next(request) : next;
    for (const block of message.content) if (block.type === 'text') options?.onTextDelta?.(block.text);
    return message;
  }
}

/** Sends the deltas, then fails as the real client does once the signal aborts (the SDK's APIUserAbortError). */
async function stall(stream: StalledStream, options?: LlmCallOptions): Promise<never> {
  for (const text of stream.deltas) options?.onTextDelta?.(text);
  const signal = options?.signal;
  if (!signal) throw new Error('FakeLlmClient: a stalled stream needs a signal to end it');
  return new Promise((_resolve, reject) => {
    if (signal.aborted) reject(aborted(signal));
    else signal.addEventListener('abort', () => reject(aborted(signal)), { once: true });
  });
}

function aborted(signal: AbortSignal): Error {
  return toModelError(new Anthropic.APIUserAbortError(), signal);
}

/** The model streams these deltas and is then cut off: the call ends only when its signal aborts. */
export function stalledStream(...deltas: string[]): StalledStream {
  return new StalledStream(deltas);
}

export function textBlock(text: string): Anthropic.Messages.TextBlock {
  return { type: 'text', text, citations: null };
}

export function toolUseBlock(name: string, input: unknown, id = `toolu_${name}`): Anthropic.Messages.ToolUseBlock {
  return { type: 'tool_use', id, name, input, caller: { type: 'direct' } };
}

/** A server tool the API runs itself: what a `pause_turn` response carries. */
export function serverToolUseBlock(id = 'srvtoolu_1'): Anthropic.Messages.ServerToolUseBlock {
  return { type: 'server_tool_use', id, name: 'web_search', input: { query: 'weather' }, caller: { type: 'direct' } };
}

export function modelMessage(
  content: ContentBlock[],
  stopReason: Anthropic.Messages.StopReason,
  usage: Partial<Anthropic.Messages.Usage> = {},
): Message {
  return {
    id: `msg_fake_${Math.random().toString(36).slice(2)}`,
    type: 'message',
    role: 'assistant',
    model: FAKE_MODEL,
    content,
    stop_reason: stopReason,
    stop_sequence: null,
    stop_details: null,
    container: null,
    diagnostics: null,
    usage: {
      input_tokens: 10,
      output_tokens: 5,
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 0,
      cache_creation: null,
      inference_geo: null,
      output_tokens_details: null,
      server_tool_use: null,
      service_tier: null,
      speed: null,
      ...usage,
    },
  };
}

export function textAnswer(text: string): Message {
  return modelMessage([textBlock(text)], 'end_turn');
}

/** The model asks for these tools (and may say something first). */
export function toolUseAnswer(blocks: Anthropic.Messages.ToolUseBlock[], text?: string): Message {
  return modelMessage([...(text === undefined ? [] : [textBlock(text)]), ...blocks], 'tool_use');
}
