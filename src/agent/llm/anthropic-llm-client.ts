import Anthropic from '@anthropic-ai/sdk';
import { Injectable, Logger } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { AppError } from '../../common/errors/app-error';
import { AppConfig } from '../../config/app-config';
import { LlmClient, type LlmCallOptions, type LlmRequest } from './llm-client';
import { retryAfterSeconds, toModelError } from './llm-errors';
import { assertWellFormed } from './model-response';

const STREAM_RETRY_BASE_MS = 500;
const STREAM_RETRY_CAP_MS = 8000;
/** Above this, the SDK expects a generation to exceed 10 minutes and refuses a non-streaming call. */
const MAX_NON_STREAMING_TOKENS = 21_000;
/** The SDK would sleep any Retry-After (days) holding the conversation: a longer wait is left to the client. */
const MAX_IN_TURN_RETRY_WAIT_SECONDS = 10;
const TRANSIENT_STREAM_ERRORS = new Set(['overloaded_error', 'api_error', 'rate_limit_error']);

/** The SDK retries HTTP errors; an overload inside a stream, before any text, is retried here. */
@Injectable()
export class AnthropicLlmClient extends LlmClient {
  private readonly logger = new Logger(AnthropicLlmClient.name);
  private readonly model: string;
  readonly configured: boolean;
  private readonly client?: Anthropic;
  private readonly maxTokens: number;
  private readonly maxRetries: number;
  private readonly maxRequestBytes: number;

  constructor(config: AppConfig) {
    super();
    const { apiKey, baseUrl, model, maxTokens, timeoutMs, maxRetries } = config.anthropic;
    this.maxRequestBytes = config.agent.modelRequestMaxBytes;
    this.model = model;
    this.maxTokens = maxTokens;
    this.maxRetries = maxRetries;
    this.configured = Boolean(apiKey);
    if (apiKey) {
      this.client = new Anthropic({
        apiKey,
        baseURL: baseUrl,
        timeout: timeoutMs,
        maxRetries,
        fetch: noLongRetryWaits,
      });
    }
  }

  async createMessage(request: LlmRequest, options: LlmCallOptions = {}): Promise<Anthropic.Messages.Message> {
    const client = this.client;
    if (!client) {
      throw new AppError('model_not_configured', 'No model is configured on this service (ANTHROPIC_API_KEY).');
    }
    const params = { ...request, model: this.model, max_tokens: this.maxTokens };
    assertFits(params, this.maxRequestBytes);
    for (let attempt = 0; ; attempt++) {
      let emitted = false;
      try {
        // Streaming costs CPU (an SSE parser per call): only a client watching the text needs it.
        const onTextDelta = options.onTextDelta;
        if (!onTextDelta && this.maxTokens <= MAX_NON_STREAMING_TOKENS) {
          return assertWellFormed(await client.messages.create(params, { signal: options.signal }));
        }
        const stream = client.messages.stream(params, { signal: options.signal });
        stream.on('text', (text) => {
          emitted = true;
          onTextDelta?.(text);
        });
        if (options.onUsage) {
          const onUsage = options.onUsage;
          stream.on('streamEvent', (_event, snapshot) => onUsage(snapshot.usage));
        }
        return assertWellFormed(await stream.finalMessage());
      } catch (error) {
        if (emitted || attempt >= this.maxRetries || !isTransientStreamError(error) || options.signal?.aborted) {
          throw toModelError(error, options.signal);
        }
        const delayMs = Math.min(STREAM_RETRY_CAP_MS, STREAM_RETRY_BASE_MS * 2 ** attempt) * (0.5 + Math.random() / 2);
        this.logger.warn(
          `model stream failed before any text (${describe(error)}); retry in ${Math.round(delayMs)} ms`,
        );
        await sleep(delayMs, undefined, { signal: options.signal }).catch(() => undefined);
      }
    }
  }
}

/** Marks a response that asks for a long wait as not to be retried (`x-should-retry`, which the SDK obeys). */
async function noLongRetryWaits(input: string | URL | Request, init?: RequestInit): Promise<Response> {
  const response = await fetch(input, init);
  const wait = retryAfterSeconds(response.headers);
  if (wait === undefined || wait <= MAX_IN_TURN_RETRY_WAIT_SECONDS) return response;
  const headers = new Headers(response.headers);
  headers.set('x-should-retry', 'false');
  return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
}

/** The body the SDK would send, measured as it would serialize it: one over the cap is never sent. */
function assertFits(params: object, maxBytes: number): void {
  const bytes = Buffer.byteLength(JSON.stringify(params), 'utf8');
  if (bytes <= maxBytes) return;
  throw new AppError(
    'model_request_too_large',
    `This turn's context and tool results make a ${bytes}-byte model request, over the service's ${maxBytes}-byte ` +
      'limit, so it was not sent. Start a new conversation, or ask for less tool output at once.',
  );
}

/** An error event inside a 200 stream (no HTTP status): the SDK does not retry those. */
function isTransientStreamError(error: unknown): boolean {
  return (
    error instanceof Anthropic.APIError && error.status === undefined && TRANSIENT_STREAM_ERRORS.has(error.type ?? '')
  );
}

function describe(error: unknown): string {
  return error instanceof Anthropic.APIError ? (error.type ?? error.name) : String(error);
}
