/**
 * `npm run demo`: the whole path of a chat turn with no API key and no network. It starts the
 * Anthropic simulator (playing a scripted model that manages a to-do list through the built-in
 * tasks MCP server) and the service on a fresh embedded database, signs a token, and plays a short
 * conversation through the real HTTP API, printing each turn and tool call.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import jwt from 'jsonwebtoken';
import { AnthropicSimulator, type RecordedRequest, type SimReply } from '../test/support/anthropic-simulator';

const USER_ID = 'demo-user';
const TURNS = [
  'Add a task to buy milk',
  'Also add one to call mom tonight',
  "What's pending?",
  'Mark the milk task done',
];

interface ToolCall {
  tool: string;
  server: string;
  arguments: unknown;
  result: unknown;
  is_error: boolean;
}

async function main(): Promise<void> {
  const sim = await AnthropicSimulator.start();
  sim.respondWith(scriptedModel);
  const dataDir = mkdtempSync(join(tmpdir(), 'chat-service-demo-'));
  const secret = randomBytes(32).toString('hex');
  const server = spawn(process.execPath, [join(__dirname, '..', 'src', 'main.js')], {
    env: {
      ...process.env,
      PORT: '0',
      LOG_LEVEL: 'info',
      DATA_DIR: dataDir,
      JWT_SECRET: secret,
      ANTHROPIC_API_KEY: 'demo-key',
      ANTHROPIC_BASE_URL: sim.url,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    const url = await listeningUrl(server.stdout!);
    console.log(`service on ${url} (embedded database in ${dataDir}), model simulated at ${sim.url}\n`);
    const token = jwt.sign({ sub: USER_ID }, secret, { algorithm: 'HS256', expiresIn: '10m' });
    let conversationId: string | undefined;
    for (const message of TURNS) {
      console.log(`you:    ${message}`);
      const response = await fetch(`${url}/api/${USER_ID}/chat`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ message, conversation_id: conversationId }),
      });
      const body = (await response.json()) as { conversation_id: string; response: string; tool_calls: ToolCall[] };
      if (!response.ok) throw new Error(`HTTP ${response.status}: ${JSON.stringify(body)}`);
      conversationId = body.conversation_id;
      for (const call of body.tool_calls) {
        console.log(
          `  tool: ${call.server}.${call.tool}(${JSON.stringify(call.arguments)}) → ${JSON.stringify(call.result)}`,
        );
      }
      console.log(`claude: ${body.response}\n`);
    }
    console.log(`history: GET ${url}/api/${USER_ID}/chat/${conversationId}/history`);
  } finally {
    server.kill('SIGTERM');
    await new Promise((resolve) => server.once('exit', resolve));
    await sim.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

function listeningUrl(stdout: NodeJS.ReadableStream): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the service did not start within 60 s')), 60_000);
    createInterface({ input: stdout }).on('line', (line) => {
      const entry = JSON.parse(line) as { msg?: string; url?: string };
      if (entry.url && entry.msg?.startsWith('listening on')) {
        clearTimeout(timer);
        resolve(entry.url);
      }
    });
  });
}

/**
 * A stand-in for Claude that reads the conversation as the real one would see it: a new user
 * message becomes a tool call, a tool result becomes a sentence about it.
 */
function scriptedModel(request: RecordedRequest): SimReply {
  const messages = request.body.messages as { role: string; content: unknown }[];
  const last = messages[messages.length - 1];
  const blocks = Array.isArray(last.content) ? (last.content as Record<string, unknown>[]) : [];
  const toolResult = blocks.find((block) => block.type === 'tool_result');
  if (toolResult) return { kind: 'text', text: describeResult(String(toolResult.content)) };

  const text = typeof last.content === 'string' ? last.content : String(blocks.find((b) => b.type === 'text')?.text);
  const add = /add (?:a task|one) to (.+)/i.exec(text);
  if (add) return toolUse('add_task', { title: capitalize(add[1]) });
  if (/pending/i.test(text)) return toolUse('list_tasks', { status: 'pending' });
  const done = /mark the (\w+) task done/i.exec(text);
  if (done) return toolUse('complete_task', { task_id: taskIdByTitle(messages, done[1]) });
  return { kind: 'text', text: 'I can add, list, complete and delete your tasks.' };
}

function toolUse(name: string, input: Record<string, unknown>): SimReply {
  return { kind: 'tool_use', calls: [{ name, input }] };
}

function describeResult(content: string): string {
  const result = JSON.parse(content) as {
    status?: string;
    title?: string;
    task_id?: number;
    tasks?: { title: string }[];
  };
  if (result.tasks) return `You have ${result.tasks.length} pending: ${result.tasks.map((t) => t.title).join('; ')}.`;
  return `Done: task ${result.task_id} "${result.title}" is ${result.status}.`;
}

/** The id the tasks server gave a task earlier in the conversation, found in its tool results. */
function taskIdByTitle(messages: { content: unknown }[], word: string): number {
  for (const message of messages) {
    for (const block of Array.isArray(message.content) ? (message.content as Record<string, unknown>[]) : []) {
      if (block.type !== 'tool_result') continue;
      const result = JSON.parse(String(block.content)) as { task_id?: number; title?: string };
      if (result.title?.toLowerCase().includes(word.toLowerCase()) && result.task_id) return result.task_id;
    }
  }
  return 0;
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
