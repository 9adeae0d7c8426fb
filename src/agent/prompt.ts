import type Anthropic from '@anthropic-ai/sdk';

export const SYSTEM_PROMPT = [
  'You are the assistant of a chat service. Answer clearly and concisely.',
  'You may call the tools you are given to act for the user; they already know who the user is, so never ask',
  'for or pass a user id. When a tool fails, tell the user plainly what went wrong. When a request refers to',
  'something by name (e.g. "delete the meeting task"), look it up first, then act on what you found.',
].join(' ');

const EPHEMERAL: Anthropic.Messages.CacheControlEphemeral = { type: 'ephemeral' };

/** The system prompt as one cached block: it never changes, so it is part of the stable prefix. */
export const CACHED_SYSTEM: Anthropic.Messages.TextBlockParam[] = [
  { type: 'text', text: SYSTEM_PROMPT, cache_control: EPHEMERAL },
];

const toolsWithBreakpoint = new WeakMap<Anthropic.Messages.Tool[], Anthropic.Messages.Tool[]>();

/** Memoized per catalogue snapshot, so every turn sends byte-identical tools (a cache hit). */
export function cachedTools(tools: Anthropic.Messages.Tool[]): Anthropic.Messages.Tool[] {
  if (tools.length === 0) return tools;
  let cached = toolsWithBreakpoint.get(tools);
  if (!cached) {
    cached = [...tools.slice(0, -1), { ...tools[tools.length - 1], cache_control: EPHEMERAL }];
    toolsWithBreakpoint.set(tools, cached);
  }
  return cached;
}

export function withCacheBreakpoint(message: Anthropic.Messages.MessageParam): Anthropic.Messages.MessageParam {
  const blocks: Anthropic.Messages.ContentBlockParam[] =
    typeof message.content === 'string' ? [{ type: 'text', text: message.content }] : [...message.content];
  const last = blocks[blocks.length - 1];
  if (!last || last.type === 'thinking' || last.type === 'redacted_thinking') return message;
  blocks[blocks.length - 1] = { ...last, cache_control: EPHEMERAL } as Anthropic.Messages.ContentBlockParam;
  return { ...message, content: blocks } as Anthropic.Messages.MessageParam;
}
