import type Anthropic from '@anthropic-ai/sdk';
import { AppError } from '../../common/errors/app-error';
import { assertWellFormed } from './model-response';

const message = (overrides: Record<string, unknown> = {}) =>
  ({
    id: 'msg_1',
    type: 'message',
    role: 'assistant',
    model: 'claude-sonnet-5-5',
    content: [{ type: 'text', text: 'Hi' }],
    stop_reason: 'end_turn',
    stop_sequence: null,
    usage: { input_tokens: 3, output_tokens: 1, cache_read_input_tokens: null, cache_creation_input_tokens: 0 },
    ...overrides,
  }) as unknown as Anthropic.Messages.Message;

describe(assertWellFormed.name, () => {
  it('returns a well-formed message, null cache counts included', () => {
    const ok = message();
    expect(assertWellFormed(ok)).toBe(ok);
  });

  it.each<[string, Record<string, unknown>]>([
    ['negative input tokens', { usage: { input_tokens: -1, output_tokens: 1 } }],
    ['fractional output tokens', { usage: { input_tokens: 1, output_tokens: 0.5 } }],
    ['a negative cache count', { usage: { input_tokens: 1, output_tokens: 1, cache_read_input_tokens: -3 } }],
    ['no usage', { usage: undefined }],
    ['content that is a string', { content: 'Hi' }],
    ['a text block without text', { content: [{ type: 'text' }] }],
    ['a tool_use block without a name', { content: [{ type: 'tool_use', id: 'toolu_1', input: {} }] }],
    ['a stop reason that is not a string', { stop_reason: 7 }],
  ])('refuses a message with %s as a model_error', (_case, overrides) => {
    expect(() => assertWellFormed(message(overrides))).toThrow(
      expect.objectContaining({ code: 'model_error' }) as AppError,
    );
  });
});
