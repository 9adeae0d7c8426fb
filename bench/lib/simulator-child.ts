/**
 * The Anthropic simulator as the bench runs it: the test simulator (echo replies, SIM_DELAY_MS) in a
 * process of its own, plus what the bench needs and `scripts/anthropic-simulator.ts` lacks:
 * - it counts requests and the bytes and messages sent to the model, times each exchange, and answers
 *   `stats` over IPC;
 * - it drops the simulator's per-request recording, which would grow without bound in a soak;
 * - with SIM_TOOL=add_task it answers a message asking to "add a task" with a call to the tool of that
 *   name the service offers (the built-in tasks server), then "Done." once the tool result comes back;
 * - with SIM_PACE (or after a `pace` message) it paces every streamed text answer, and keeps the instant each
 *   tagged turn's first text delta was written (`first-deltas` over IPC); `clock` answers this process's clock,
 *   to check it is shared.
 */
import { AnthropicSimulator, type RecordedRequest, type SimReply } from '../../test/support/anthropic-simulator';
import { nowMs } from './clock';
import { type PaceSpec, type SimulatorStats, TOOL_TRIGGER, TURN_TAG } from './simulator-protocol';

function intFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  const value = raw === undefined || raw === '' ? fallback : Number(raw);
  if (!Number.isInteger(value) || value < 0) throw new Error(`${name} must be a non-negative integer, got "${raw}"`);
  return value;
}

const emptyStats = (): SimulatorStats => ({
  requests: 0,
  bytes: 0,
  maxBytes: 0,
  messages: 0,
  modelMs: 0,
  toolUses: 0,
  lastTools: [],
});

interface Block {
  type?: unknown;
  text?: unknown;
}

/** The echo, padded so that it splits into `deltas` pieces of a few characters. */
function pacedText(blocks: Block[], deltas: number): string {
  const echo = `Echo: ${blocks.map((block) => (block.type === 'text' ? String(block.text) : '')).join('\n')} `;
  return echo.padEnd(Math.max(echo.length, deltas * 6), 'and so the answer goes on, ');
}

function lastUserBlocks(body: { messages?: { role?: unknown; content?: unknown }[] }): Block[] {
  const content = body.messages?.findLast((message) => message?.role === 'user')?.content;
  if (typeof content === 'string') return [{ type: 'text', text: content }];
  return Array.isArray(content) ? (content as Block[]) : [];
}

async function main(): Promise<void> {
  const toolName = process.env.SIM_TOOL || undefined;
  let pace = process.env.SIM_PACE ? (JSON.parse(process.env.SIM_PACE) as PaceSpec) : undefined;
  let firstDeltas: Record<string, number> = {};
  const sim = await AnthropicSimulator.start({
    port: intFromEnv('SIM_PORT', 0),
    delayMs: intFromEnv('SIM_DELAY_MS', 0),
  });
  let stats = emptyStats();
  sim.server.prependListener('request', (_request, response) => {
    const started = process.hrtime.bigint();
    response.once('finish', () => {
      stats.modelMs += Number(process.hrtime.bigint() - started) / 1e6;
    });
  });

  sim.respondWith((request: RecordedRequest): SimReply | undefined => {
    sim.requests.length = 0;
    const body = request.body as {
      messages?: { role?: unknown; content?: unknown }[];
      tools?: { name?: string }[];
      stream?: unknown;
    };
    const length = Number(request.headers['content-length']);
    const bytes = Number.isFinite(length) ? length : Buffer.byteLength(JSON.stringify(body));
    stats.requests += 1;
    stats.bytes += bytes;
    stats.maxBytes = Math.max(stats.maxBytes, bytes);
    stats.messages += body.messages?.length ?? 0;
    const tools = (body.tools ?? []).map((tool) => String(tool.name));
    stats.lastTools = tools;
    const blocks = lastUserBlocks(body);
    if (pace && body.stream === true) {
      const tag = blocks.map((block) => TURN_TAG.exec(String(block.text))?.[1]).find(Boolean);
      const onDelta = (index: number): void => {
        if (index === 0 && tag) firstDeltas[tag] = nowMs();
      };
      return { kind: 'text', text: pacedText(blocks, pace.deltas), pace: { ...pace, onDelta } };
    }
    if (!toolName) return undefined;
    const offered = tools.find((name) => name === toolName || name.endsWith(`__${toolName}`));
    const asks = blocks.some((block) => block.type === 'text' && String(block.text).includes(TOOL_TRIGGER));
    if (!offered || !asks || blocks.some((block) => block.type === 'tool_result')) return undefined;
    stats.toolUses += 1;
    return { kind: 'tool_use', calls: [{ name: offered, input: { title: 'buy milk' } }] };
  });

  process.on('message', (message: { type?: string; pace?: PaceSpec }) => {
    if (message?.type === 'stats') process.send?.({ type: 'stats', stats });
    if (message?.type === 'clock') process.send?.({ type: 'clock', now: nowMs() });
    if (message?.type === 'pace') {
      pace = message.pace;
      process.send?.({ type: 'pace' });
    }
    if (message?.type === 'first-deltas') {
      process.send?.({ type: 'first-deltas', instants: firstDeltas });
      firstDeltas = {};
    }
    if (message?.type === 'reset') {
      stats = emptyStats();
      process.send?.({ type: 'reset' });
    }
  });
  const stop = (): void => void sim.close().finally(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  process.once('disconnect', stop);
  process.send?.({ type: 'ready', url: sim.url });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
