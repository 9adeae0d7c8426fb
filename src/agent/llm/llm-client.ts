import type Anthropic from '@anthropic-ai/sdk';

/** The parts of a Messages API request the agent decides; the client adds model and max_tokens. */
export type LlmRequest = Omit<Anthropic.Messages.MessageCreateParamsNonStreaming, 'model' | 'max_tokens' | 'stream'>;

export interface LlmCallOptions {
  signal?: AbortSignal;
  onTextDelta?: (text: string) => void;
  /** A streamed call's usage so far (input at its start, output as it grows): what a cut-off call still cost. */
  onUsage?: (usage: Anthropic.Messages.Usage) => void;
}

/** Claude, behind a token so tests can swap it; failures are AppErrors with the SPEC §4 codes. */
export abstract class LlmClient {
  /** False when no API key is set: the service runs, and turns answer 503 model_not_configured. */
  abstract readonly configured: boolean;
  abstract createMessage(request: LlmRequest, options?: LlmCallOptions): Promise<Anthropic.Messages.Message>;
}
