import type Anthropic from '@anthropic-ai/sdk';
import { AppError } from '../../common/errors/app-error';

type Message = Anthropic.Messages.Message;

const COUNTS = ['input_tokens', 'output_tokens'] as const;
const OPTIONAL_COUNTS = ['cache_read_input_tokens', 'cache_creation_input_tokens'] as const;

/** The SDK does not check what a provider sends, and usage feeds counters that refuse negative values. */
export function assertWellFormed(message: Message): Message {
  const problem = malformation(message);
  if (problem) {
    throw new AppError('model_error', 'The model sent a malformed response; try again later.', {
      cause: new Error(`malformed model response: ${problem}`),
    });
  }
  return message;
}

function malformation(message: unknown): string | undefined {
  if (!isRecord(message)) return 'not an object';
  const { content, usage, stop_reason: stopReason, model } = message;
  if (!Array.isArray(content)) return 'content is not an array';
  const badBlock = content.findIndex((block) => !isBlock(block));
  if (badBlock >= 0) return `content[${badBlock}] is not a content block`;
  if (stopReason !== null && stopReason !== undefined && typeof stopReason !== 'string') return 'stop_reason';
  if (typeof model !== 'string') return 'model is not a string';
  if (!isRecord(usage)) return 'usage is missing';
  const badCount =
    COUNTS.find((key) => !isCount(usage[key])) ??
    OPTIONAL_COUNTS.find((key) => usage[key] !== null && usage[key] !== undefined && !isCount(usage[key]));
  return badCount && `usage.${badCount} is not a non-negative integer`;
}

function isBlock(block: unknown): boolean {
  if (!isRecord(block) || typeof block.type !== 'string') return false;
  if (block.type === 'text') return typeof block.text === 'string';
  if (block.type === 'tool_use') return typeof block.id === 'string' && typeof block.name === 'string';
  return true;
}

function isCount(value: unknown): boolean {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
