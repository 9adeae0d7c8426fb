import type Anthropic from '@anthropic-ai/sdk';
import type { ContextMessage } from '../agent-turn';

type MessageParam = Anthropic.Messages.MessageParam;

export const CONTEXT_ROW_LIMIT = 400;
const CHARS_PER_TOKEN = 4;

/** A cheap, deterministic over-estimate: JSON characters / 4. Windowing needs a bound, not a count. */
export function estimateTokens(value: unknown): number {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return Math.ceil(text.length / CHARS_PER_TOKEN);
}

/** Whole turns only (orphans skipped), so the model sees user/assistant alternation and unsplit tool pairs. */
export function buildContextWindow(rowsNewestFirst: readonly ContextMessage[], budgetTokens: number): MessageParam[] {
  const turns: MessageParam[][] = [];
  let used = 0;
  for (let i = 0; i + 1 < rowsNewestFirst.length; i++) {
    const answer = rowsNewestFirst[i];
    const question = rowsNewestFirst[i + 1];
    if (answer.role !== 'assistant' || question.role !== 'user' || question.seq !== answer.seq - 1) continue;
    const turn: MessageParam[] = [{ role: 'user', content: question.content }, ...replay(answer)];
    const cost = estimateTokens(turn);
    if (used + cost > budgetTokens) break;
    used += cost;
    turns.push(turn);
    i++;
  }
  return turns.reverse().flat();
}

function replay(answer: ContextMessage): MessageParam[] {
  if (answer.transcript && answer.transcript.length > 0) return answer.transcript as MessageParam[];
  return [{ role: 'assistant', content: answer.content }];
}
