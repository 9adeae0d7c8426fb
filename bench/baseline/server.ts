/**
 * The floor the service is measured against: the minimal correct implementation of the same routes in
 * bare Fastify + pg, with no framework, ORM, lease, idempotency, rate limit or streaming.
 *
 * - Auth: `Authorization: Bearer` HS256 JWT verified with jsonwebtoken (the secret as a KeyObject),
 *   algorithm pinned, `exp` required, 5 s clock tolerance; 401 with `WWW-Authenticate: Bearer`;
 *   `sub` ≠ `{user_id}` → 403.
 * - `GET /api/:user_id/tools`: the service's own answer for that route, given at start
 *   (BASELINE_TOOLS_BODY), so both sides of S0 serialize and send the same bytes.
 * - `POST /api/:user_id/chat`: the body validated by a JSON schema (unknown fields refused); commit 1
 *   stores the user message (pending) — with a new conversation, or under the conversation row's
 *   counter for an existing one — then the history is read, the simulator called with `fetch`, and
 *   commit 2 stores the reply and completes the user message. Each commit is one statement. With
 *   `Accept: text/event-stream` the model is asked to stream and the turn is sent as the service's events
 *   (`retry:`, `turn.started`, one `text.delta` per model delta as it arrives, `turn.completed` or
 *   `turn.failed`): the floor of S7's time to first token.
 * Environment: BASELINE_PORT, BASELINE_TOOLS_BODY, DATABASE_URL, DB_POOL_SIZE, JWT_SECRET, ANTHROPIC_API_KEY,
 * ANTHROPIC_BASE_URL.
 */
import { createSecretKey } from 'node:crypto';
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';
import { verify } from 'jsonwebtoken';
import { Pool } from 'pg';
import { SYSTEM_PROMPT } from '../../src/agent/prompt';
import { DEFAULT_ANTHROPIC_MODEL } from '../../src/config/app-config';
import { type ModelAnswer, streamModel } from './model-stream';

const MAX_TOKENS = 4096; // the service's ANTHROPIC_MAX_TOKENS default
const CONTEXT_ROW_LIMIT = 400;
const CONTEXT_CHAR_BUDGET = 50_000 * 4; // the service's token budget at its 4 characters per token
const MODEL_TIMEOUT_MS = 60_000;

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
}

// A KeyObject, made once: given a string, jsonwebtoken 9 first tries to parse it as a PEM public key
// (createPublicKey, which throws) on every verify — about 0.7 ms of CPU per request here.
const secret = createSecretKey(Buffer.from(required('JWT_SECRET')));
const modelUrl = `${required('ANTHROPIC_BASE_URL').replace(/\/$/, '')}/v1/messages`;
const apiKey = required('ANTHROPIC_API_KEY');
const pool = new Pool({
  connectionString: required('DATABASE_URL'),
  max: Number(process.env.DB_POOL_SIZE ?? 10),
  connectionTimeoutMillis: 5_000,
});

const NEW_CONVERSATION_WITH_MESSAGE = `
  WITH c AS (
    INSERT INTO conversations (user_id, title, message_count) VALUES ($1, $2, 1) RETURNING id
  )
  INSERT INTO messages (conversation_id, user_id, seq, role, content, status)
  SELECT c.id, $1, 1, 'user', $3, 'pending' FROM c
  RETURNING id, conversation_id, seq`;

const APPEND_USER_MESSAGE = `
  WITH c AS (
    UPDATE conversations SET message_count = message_count + 1, updated_at = now()
    WHERE id = $1 AND user_id = $2
    RETURNING message_count
  )
  INSERT INTO messages (conversation_id, user_id, seq, role, content, status)
  SELECT $1, $2, c.message_count, 'user', $3, 'pending' FROM c
  RETURNING id, conversation_id, seq`;

const CONTEXT_ROWS = `
  SELECT seq, role, content FROM messages
  WHERE conversation_id = $1 AND user_id = $2 AND seq < $3 AND status = 'completed'
  ORDER BY seq DESC LIMIT ${CONTEXT_ROW_LIMIT}`;

const COMPLETE_TURN = `
  WITH done AS (
    UPDATE messages SET status = 'completed' WHERE id = $3 AND user_id = $2
  ), c AS (
    UPDATE conversations SET message_count = message_count + 1, updated_at = now()
    WHERE id = $1 AND user_id = $2
    RETURNING message_count
  )
  INSERT INTO messages (conversation_id, user_id, seq, role, content, status, model, stop_reason, usage, transcript)
  SELECT $1, $2, c.message_count, 'assistant', $4, 'completed', $5, $6, $7::jsonb, $8::jsonb FROM c
  RETURNING id`;

const MARK_FAILED = `UPDATE messages SET status = 'failed', error_code = $3 WHERE id = $1 AND user_id = $2`;

const TOOLS_BODY: unknown = JSON.parse(required('BASELINE_TOOLS_BODY'));

interface UserParams {
  user_id: string;
}

interface ChatBody {
  message: string;
  conversation_id?: string;
}

interface ModelMessage {
  role: 'user' | 'assistant';
  content: string;
}

interface StoredUserMessage {
  id: string;
  conversation_id: string;
  seq: number;
}

const problemBody = (status: number, code: string, detail: string) => ({
  type: `/problems/${code}`,
  title: code,
  status,
  detail,
  code,
});

function problem(reply: FastifyReply, status: number, code: string, detail: string): FastifyReply {
  return reply
    .code(status)
    .type('application/problem+json')
    .send(problemBody(status, code, detail));
}

/** Verifies the bearer token and that its `sub` is the user of the path. */
async function authenticate(request: FastifyRequest<{ Params: UserParams }>, reply: FastifyReply): Promise<void> {
  const match = /^Bearer ([^\s]+)$/.exec(request.headers.authorization ?? '');
  let sub: unknown;
  try {
    if (!match) throw new Error('no bearer token');
    const payload = verify(match[1], secret, { algorithms: ['HS256'], clockTolerance: 5 });
    if (typeof payload !== 'object' || typeof payload.exp !== 'number') throw new Error('exp is required');
    sub = payload.sub;
  } catch {
    reply.header('www-authenticate', 'Bearer');
    return void problem(reply, 401, 'unauthorized', 'A valid bearer token is required.');
  }
  if (typeof sub !== 'string' || sub !== request.params.user_id) {
    return void problem(reply, 403, 'forbidden', 'The token is not for this user.');
  }
}

/** The newest whole user/assistant pairs within the budget, oldest first. */
function contextWindow(rowsNewestFirst: { seq: number; role: string; content: string }[]): ModelMessage[] {
  const turns: ModelMessage[][] = [];
  let used = 0;
  for (let i = 0; i + 1 < rowsNewestFirst.length; i++) {
    const answer = rowsNewestFirst[i];
    const question = rowsNewestFirst[i + 1];
    if (answer.role !== 'assistant' || question.role !== 'user' || question.seq !== answer.seq - 1) continue;
    used += question.content.length + answer.content.length;
    if (used > CONTEXT_CHAR_BUDGET) break;
    turns.push([
      { role: 'user', content: question.content },
      { role: 'assistant', content: answer.content },
    ]);
    i++;
  }
  return turns.reverse().flat();
}

const MODEL_HEADERS = { 'content-type': 'application/json', 'x-api-key': apiKey, 'anthropic-version': '2023-06-01' };

const modelBody = (messages: ModelMessage[]) => ({
  model: DEFAULT_ANTHROPIC_MODEL,
  max_tokens: MAX_TOKENS,
  system: SYSTEM_PROMPT,
  messages,
});

async function callModel(messages: ModelMessage[]): Promise<ModelAnswer> {
  const response = await fetch(modelUrl, {
    method: 'POST',
    headers: MODEL_HEADERS,
    body: JSON.stringify(modelBody(messages)),
    signal: AbortSignal.timeout(MODEL_TIMEOUT_MS),
  });
  if (!response.ok) throw new Error(`model answered ${response.status}`);
  return (await response.json()) as ModelAnswer;
}

/** Commit 1: the user's message, pending, before the model is called; undefined for a foreign conversation. */
async function storeUserMessage(userId: string, body: ChatBody): Promise<StoredUserMessage | undefined> {
  const stored = body.conversation_id
    ? await pool.query(APPEND_USER_MESSAGE, [body.conversation_id, userId, body.message])
    : await pool.query(NEW_CONVERSATION_WITH_MESSAGE, [userId, body.message.slice(0, 80), body.message]);
  return stored.rows[0] as StoredUserMessage | undefined;
}

/** The model's messages: the history window (an existing conversation), then this message. */
async function modelMessages(userId: string, body: ChatBody, user: StoredUserMessage): Promise<ModelMessage[]> {
  const history = body.conversation_id
    ? contextWindow((await pool.query(CONTEXT_ROWS, [user.conversation_id, userId, user.seq])).rows)
    : [];
  return [...history, { role: 'user', content: body.message }];
}

/** Commit 2: the reply, and the user's message completed, in one statement; returns the JSON answer. */
async function completeTurn(userId: string, user: StoredUserMessage, answer: ModelAnswer) {
  const text = answer.content
    .filter((block) => block.type === 'text')
    .map((block) => block.text)
    .join('\n\n');
  const transcript = [{ role: 'assistant', content: answer.content }];
  const done = await pool.query(COMPLETE_TURN, [
    user.conversation_id,
    userId,
    user.id,
    text,
    answer.model,
    answer.stop_reason,
    JSON.stringify(answer.usage),
    JSON.stringify(transcript),
  ]);
  return {
    conversation_id: user.conversation_id,
    user_message_id: user.id,
    turn_id: user.id,
    message_id: (done.rows[0] as { id: string }).id,
    response: text,
    tool_calls: [],
    stop_reason: answer.stop_reason,
    usage: answer.usage,
  };
}

/** The turn as the service's event stream; the response is Fastify's no more (hijacked). */
async function streamTurn(reply: FastifyReply, userId: string, user: StoredUserMessage, messages: ModelMessage[]) {
  reply.hijack();
  const raw = reply.raw;
  raw.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
  let id = 0;
  const send = (event: string, data: object): void => {
    raw.write(`id: ${++id}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  };
  raw.write('retry: 3000\n\n');
  send('turn.started', { conversation_id: user.conversation_id, user_message_id: user.id, turn_id: user.id });
  try {
    const answer = await streamModel(
      modelUrl,
      { headers: MODEL_HEADERS, body: modelBody(messages), signal: AbortSignal.timeout(MODEL_TIMEOUT_MS) },
      (text) => send('text.delta', { text }),
    );
    send('turn.completed', await completeTurn(userId, user, answer));
  } catch (error) {
    await pool.query(MARK_FAILED, [user.id, userId, 'model_error']);
    reply.log.error(error);
    send('turn.failed', { ...problemBody(502, 'model_error', 'The model failed.'), turn_id: user.id });
  } finally {
    raw.end();
  }
}

const app = Fastify({
  logger: false,
  bodyLimit: 256 * 1024,
  keepAliveTimeout: 72_000,
  ajv: { customOptions: { removeAdditional: false } },
});

app.get('/health', async () => ({ status: 'ok' }));

void app.register(
  async (api) => {
    api.addHook('onRequest', authenticate);

    api.get('/:user_id/tools', async () => TOOLS_BODY);

    api.post<{ Params: UserParams; Body: ChatBody }>(
      '/:user_id/chat',
      {
        schema: {
          body: {
            type: 'object',
            required: ['message'],
            additionalProperties: false,
            properties: {
              message: { type: 'string', minLength: 1, maxLength: 8000, pattern: '\\S' },
              conversation_id: { type: 'string', format: 'uuid' },
            },
          },
        },
      },
      async (request, reply) => {
        const userId = request.params.user_id;
        const user = await storeUserMessage(userId, request.body);
        if (!user) return problem(reply, 404, 'conversation_not_found', 'No such conversation.');
        const messages = await modelMessages(userId, request.body, user);
        if ((request.headers.accept ?? '').includes('text/event-stream')) {
          return streamTurn(reply, userId, user, messages);
        }
        let answer: ModelAnswer;
        try {
          answer = await callModel(messages);
        } catch (error) {
          await pool.query(MARK_FAILED, [user.id, userId, 'model_error']);
          request.log.error(error);
          return problem(reply, 502, 'model_error', 'The model failed.');
        }
        return completeTurn(userId, user, answer);
      },
    );
  },
  { prefix: '/api' },
);

async function main(): Promise<void> {
  await app.listen({ host: '127.0.0.1', port: Number(required('BASELINE_PORT')) });
  const stop = (): void =>
    void app
      .close()
      .then(() => pool.end())
      .finally(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
