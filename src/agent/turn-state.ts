import type Anthropic from '@anthropic-ai/sdk';
import {
  APPROVAL_REQUIRED_STOP_REASON,
  CANCELLED_STOP_REASON,
  type AgentTurnResult,
  type AgentTurnResume,
  type PausedAgentTurnResult,
  type PendingToolCall,
  type StoredToolCall,
  type StoredUsage,
  type TranscriptMessage,
} from './agent-turn';
import type { ToolRound, ToolUse } from './tools/tool-runner';

type Message = Anthropic.Messages.Message;

/** An assistant message must not be empty when it is replayed as context. */
const EMPTY_ANSWER = '(no answer)';
/** The final assistant message of a turn cancelled before the model said anything (the stored text stays ''). */
const CANCELLED_ANSWER = '(cancelled)';

/** What a turn has gathered so far — from its start, or from the pause it resumes — and the results it ends with. */
export class TurnState {
  readonly transcript: TranscriptMessage[];
  private readonly texts: string[];
  private readonly toolCalls: StoredToolCall[];
  private readonly usage: StoredUsage;
  toolRounds: number;

  constructor(
    private model: string,
    resume?: AgentTurnResume,
  ) {
    this.transcript = [...(resume?.transcript ?? [])];
    this.texts = resume && resume.text.length > 0 ? [resume.text] : [];
    this.toolCalls = [...(resume?.toolCalls ?? [])];
    this.usage = { ...emptyUsage(), ...resume?.usage };
    this.toolRounds = resume?.toolRounds ?? 0;
  }

  addResponse(response: Message): void {
    addUsage(this.usage, response.usage);
    this.texts.push(...textOf(response));
    this.model = response.model;
  }

  addRound(round: ToolRound): void {
    this.toolCalls.push(...round.calls);
    this.transcript.push({ role: 'user', content: round.results });
  }

  /** Only the text of the last answer: a tool_use left unanswered (cut by max_tokens) would make every later request invalid. */
  finished(content: readonly unknown[], stopReason: string): AgentTurnResult {
    this.transcript.push({ role: 'assistant', content: finalContent(content) });
    return this.result(stopReason);
  }

  /**
   * Ends the transcript with one assistant message of text: a last answer whose tools were not run (or that
   * paused) keeps only its text, joined by what the interrupted call streamed.
   */
  cancelled(partialText = '', partialUsage?: Anthropic.Messages.Usage): AgentTurnResult {
    if (partialText.length > 0) this.texts.push(partialText);
    if (partialUsage) addUsage(this.usage, partialUsage);
    const last = this.transcript.at(-1)?.role === 'assistant' ? (this.transcript.pop()?.content ?? []) : [];
    const partial = partialText.length > 0 ? [{ type: 'text', text: partialText }] : [];
    this.transcript.push({ role: 'assistant', content: finalContent([...last, ...partial], CANCELLED_ANSWER) });
    return this.result(CANCELLED_STOP_REASON);
  }

  /** The transcript ends with the paused round's tool_use blocks, so the resume runs exactly those. */
  paused(pendingToolCalls: PendingToolCall[]): PausedAgentTurnResult {
    return {
      ...this.result(APPROVAL_REQUIRED_STOP_REASON),
      stopReason: APPROVAL_REQUIRED_STOP_REASON,
      pendingToolCalls,
      toolRounds: this.toolRounds,
    };
  }

  private result(stopReason: string): AgentTurnResult {
    return {
      text: this.texts.join('\n\n'),
      toolCalls: this.toolCalls,
      stopReason,
      usage: this.usage,
      model: this.model,
      transcript: this.transcript,
    };
  }
}

/** The tool calls of the round a resumed turn paused on, with the arguments the model gave them. */
export function pausedToolUses(resume: AgentTurnResume): ToolUse[] {
  const last = resume.transcript.at(-1);
  const uses = last?.role === 'assistant' ? last.content.filter(isToolUse) : [];
  if (uses.length === 0) throw new Error('A resumed transcript must end with the tool_use blocks of its paused round');
  return uses;
}

function isToolUse(block: unknown): block is ToolUse {
  const { type, id, name } = (block ?? {}) as { type?: unknown; id?: unknown; name?: unknown };
  return type === 'tool_use' && typeof id === 'string' && typeof name === 'string';
}

function isText(block: unknown): block is Anthropic.Messages.TextBlockParam {
  const { type, text } = (block ?? {}) as { type?: unknown; text?: unknown };
  return type === 'text' && typeof text === 'string' && text.length > 0;
}

function textOf(response: Message): string[] {
  return response.content
    .filter((block): block is Anthropic.Messages.TextBlock => block.type === 'text' && block.text.length > 0)
    .map((block) => block.text);
}

function finalContent(content: readonly unknown[], placeholder = EMPTY_ANSWER): unknown[] {
  const text = content.filter(isText);
  return text.length > 0 ? text : [{ type: 'text', text: placeholder }];
}

function emptyUsage(): StoredUsage {
  return { input_tokens: 0, output_tokens: 0, cache_read_input_tokens: 0, cache_creation_input_tokens: 0 };
}

function addUsage(total: StoredUsage, usage: Anthropic.Messages.Usage): void {
  total.input_tokens += usage.input_tokens;
  total.output_tokens += usage.output_tokens;
  total.cache_read_input_tokens += usage.cache_read_input_tokens ?? 0;
  total.cache_creation_input_tokens += usage.cache_creation_input_tokens ?? 0;
}
