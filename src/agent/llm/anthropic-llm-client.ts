import Anthropic from '@anthropic-ai/sdk';
import { Injectable } from '@nestjs/common';
import { AppError } from '../../common/errors/app-error';
import { AppConfig } from '../../config/app-config';
import { LlmClient, type LlmCallOptions, type LlmRequest } from './llm-client';
import { toModelError } from './llm-errors';

/**
 * Claude through the official SDK. Every call streams, so text reaches clients as it is written and
 * long generations are not cut by idle timeouts; the SDK retries 408/409/429/5xx with backoff.
 */
@Injectable()
export class AnthropicLlmClient extends LlmClient {
  readonly model: string;
  readonly configured: boolean;
  private readonly client?: Anthropic;
  private readonly maxTokens: number;

  constructor(config: AppConfig) {
    super();
    const { apiKey, baseUrl, model, maxTokens, timeoutMs, maxRetries } = config.anthropic;
    this.model = model;
    this.maxTokens = maxTokens;
    this.configured = Boolean(apiKey);
    if (apiKey) this.client = new Anthropic({ apiKey, baseURL: baseUrl, timeout: timeoutMs, maxRetries });
  }

  async createMessage(request: LlmRequest, options: LlmCallOptions = {}): Promise<Anthropic.Messages.Message> {
    if (!this.client) {
      throw new AppError('model_not_configured', 'No model is configured on this service (ANTHROPIC_API_KEY).');
    }
    try {
      const stream = this.client.messages.stream(
        { ...request, model: this.model, max_tokens: this.maxTokens },
        { signal: options.signal },
      );
      if (options.onTextDelta) stream.on('text', options.onTextDelta);
      return await stream.finalMessage();
    } catch (error) {
      throw toModelError(error, options.signal);
    }
  }
}
