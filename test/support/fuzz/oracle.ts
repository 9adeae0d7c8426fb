import jwt from 'jsonwebtoken';

/**
 * What a request deserves, judged from its bytes alone (no knowledge of the service's code): `valid`
 * must be answered 2xx, `invalid` must be a 4xx, `unsure` (lenient parsing the spec leaves open) may be
 * either. Never a 5xx.
 */
export type Verdict = 'valid' | 'invalid' | 'unsure';

export interface WireRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  payload?: string | Buffer;
}

export interface OracleWorld {
  jwtSecret: string;
  bodyLimit: number;
  toolsRoute: boolean;
  /** The owner of a conversation (by lower-case id), for every conversation the test knows of. */
  ownerOf(conversationId: string): string | undefined;
}

export interface Judgement {
  verdict: Verdict;
  /** Why, for failure reports: the parts that were not plainly valid. */
  reasons: string[];
  route: RouteName;
}

export type RouteName =
  'chat' | 'history' | 'list' | 'conversation' | 'tools' | 'live' | 'ready' | 'maybe-known' | 'unknown';

export const MESSAGE_MAX_LENGTH = 8000;
export const TITLE_MAX_LENGTH = 200;
export const PAGE_MAX_LIMIT = 200;
export const CURSOR_MAX_LENGTH = 512;
export const USER_ID_MAX_LENGTH = 255;
/** PostgreSQL `integer`, the type of `messages.seq`. */
export const INT4_MAX = 2 ** 31 - 1;

/** validator.js `isUUID(value, 'all')`: versions 1..8 with the RFC variant, plus the nil and max UUIDs. */
export const UUID_PATTERN = new RegExp(
  '^(?:[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}' +
    '|00000000-0000-0000-0000-000000000000|ffffffff-ffff-ffff-ffff-ffffffffffff)$',
  'i',
);
const HEX_UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const STRICT_ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$/;
/** ISO 8601 UTC naming a day that exists (`2020-02-30T…` matches the pattern and Date.parse, not PostgreSQL). */
function isRealIsoUtc(text: string): boolean {
  const time = Date.parse(text);
  return (
    STRICT_ISO_UTC.test(text) && !Number.isNaN(time) && new Date(time).toISOString().slice(0, 19) === text.slice(0, 19)
  );
}
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

class Verdicts {
  readonly reasons: string[] = [];
  private invalid = false;
  private unsure = false;
  reject(reason: string): void {
    this.invalid = true;
    this.reasons.push(`invalid: ${reason}`);
  }
  doubt(reason: string): void {
    this.unsure = true;
    this.reasons.push(`unsure: ${reason}`);
  }
  get verdict(): Verdict {
    return this.invalid ? 'invalid' : this.unsure ? 'unsure' : 'valid';
  }
}

interface RouteMatch {
  route: RouteName;
  methods: string[];
  user?: string;
  conversation?: string;
  query: string[];
}

/** Decodes a path segment the way find-my-way does; undefined when it is not valid percent-encoding. */
function decodeSegment(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

function matchRoute(pathname: string, world: OracleWorld, v: Verdicts): RouteMatch {
  const raw = pathname.split('/').slice(1);
  const decoded = raw.map(decodeSegment);
  if (decoded.some((segment) => segment === undefined)) {
    v.reject('malformed percent-encoding in the path');
    return { route: 'unknown', methods: [], query: [] };
  }
  const segments = decoded as string[];
  // A static segment that matches only once decoded (`%63hat`) is the router's business.
  const staticIs = (index: number, word: string) => {
    if (raw[index] === word) return true;
    if (segments[index] === word) {
      v.doubt(`percent-encoded static segment ${raw[index]}`);
      return true;
    }
    return false;
  };
  const read = ['GET', 'HEAD'];
  const n = segments.length;
  if (n === 2 && staticIs(0, 'health') && (staticIs(1, 'live') || staticIs(1, 'ready'))) {
    return { route: segments[1] === 'live' ? 'live' : 'ready', methods: read, query: [] };
  }
  if (n >= 1 && ['docs', 'docs-json', 'metrics', 'mcp'].includes(segments[0])) {
    return { route: 'maybe-known', methods: [], query: [] };
  }
  if (n >= 3 && staticIs(0, 'api')) {
    const user = segments[1];
    if (n === 3 && staticIs(2, 'chat')) return { route: 'chat', methods: ['POST'], user, query: [] };
    if (n === 3 && staticIs(2, 'conversations')) {
      return { route: 'list', methods: read, user, query: ['limit', 'cursor'] };
    }
    if (n === 3 && world.toolsRoute && staticIs(2, 'tools')) return { route: 'tools', methods: read, user, query: [] };
    if (n === 4 && staticIs(2, 'conversations')) {
      return {
        route: 'conversation',
        methods: [...read, 'PATCH', 'DELETE'],
        user,
        conversation: segments[3],
        query: [],
      };
    }
    if (n === 5 && staticIs(2, 'chat') && staticIs(4, 'history')) {
      return { route: 'history', methods: read, user, conversation: segments[3], query: ['limit', 'before'] };
    }
  }
  if (pathname.endsWith('/') || pathname.includes('//')) v.doubt('trailing or doubled slash');
  return { route: 'unknown', methods: [], query: [] };
}

/** The token's subject when the Authorization header carries a token this service must accept. */
function judgeAuth(header: string | undefined, world: OracleWorld, v: Verdicts): string | undefined {
  if (header === undefined) {
    v.reject('no Authorization header');
    return undefined;
  }
  const strict = /^Bearer ([A-Za-z0-9_.-]+)$/i.exec(header);
  const loose = /^\s*Bearer\s+(\S+)/i.exec(header);
  const token = strict?.[1] ?? loose?.[1];
  if (!token) {
    v.reject('no bearer token');
    return undefined;
  }
  if (!strict) v.doubt('bearer token with extra whitespace or trailing text');
  try {
    const claims = jwt.verify(token, world.jwtSecret, { algorithms: ['HS256'] });
    if (typeof claims !== 'object' || typeof claims.exp !== 'number') throw new Error('no exp');
    const sub: unknown = claims.sub;
    if (typeof sub !== 'string' || sub.length === 0 || sub.length > USER_ID_MAX_LENGTH) throw new Error('bad sub');
    // Ids that would merge downstream (trimmed, normalised) or pose as the service itself are refused.
    if (sub !== sub.trim() || /\p{Cc}/u.test(sub) || !sub.isWellFormed() || sub.normalize('NFC') !== sub) {
      throw new Error('bad sub');
    }
    if (sub === 'chat-service') throw new Error('reserved sub');
    return sub;
  } catch {
    v.reject('the token is not one this service accepts');
    return undefined;
  }
}

/** Fastify's querystring (fast-querystring): repeated keys become arrays, undecodable text stays as sent. */
function parseQuery(search: string): Map<string, string[]> {
  const query = new Map<string, string[]>();
  if (search.length <= 1) return query;
  for (const pair of search.slice(1).split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const decode = (text: string) => {
      const plain = text.replace(/\+/g, ' ');
      try {
        return decodeURIComponent(plain) || plain;
      } catch {
        return plain;
      }
    };
    const key = decode(eq < 0 ? pair : pair.slice(0, eq));
    const value = eq < 0 ? '' : decode(pair.slice(eq + 1));
    query.set(key, [...(query.get(key) ?? []), value]);
  }
  return query;
}

function judgeLimit(values: string[], v: Verdicts): void {
  if (values.length !== 1) return v.reject('limit given more than once');
  const [text] = values;
  if (/^[1-9]\d*$/.test(text) && Number(text) <= PAGE_MAX_LIMIT) return;
  const number = Number(text);
  if (!Number.isInteger(number) || number < 1 || number > PAGE_MAX_LIMIT) return v.reject(`limit ${text}`);
  v.doubt(`limit ${text} is a number only to a lenient parser`);
}

/** The service's own cursor decoding: base64url JSON of `{ scope, ...position }`. */
export function decodeCursorText(cursor: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

function judgeCursor(
  values: string[],
  scope: string,
  positionIsValid: (position: Record<string, unknown>, v: Verdicts) => boolean,
  v: Verdicts,
): void {
  if (values.length !== 1) return v.reject('cursor given more than once');
  const [cursor] = values;
  if (cursor === '') return v.doubt('empty cursor');
  if (cursor.length > CURSOR_MAX_LENGTH) return v.reject('cursor over 512 characters');
  const decoded = decodeCursorText(cursor);
  if (!decoded) return v.reject('cursor is not base64url JSON of an object');
  const { scope: cursorScope, ...position } = decoded;
  if (cursorScope !== scope) return v.reject('cursor of another listing');
  if (!positionIsValid(position, v)) return v.reject('cursor position malformed');
  if (Buffer.from(JSON.stringify(decoded)).toString('base64url') !== cursor) v.doubt('non-canonical cursor text');
}

const conversationPosition = (position: Record<string, unknown>, v: Verdicts): boolean => {
  const { updatedAt, id } = position;
  // A cursor id is any hex UUID (it came from the database), not only the versions `@IsUUID()` takes.
  if (typeof updatedAt !== 'string' || typeof id !== 'string' || !HEX_UUID.test(id)) return false;
  if (Number.isNaN(Date.parse(updatedAt))) return false;
  // Cursors are opaque: one not in the exact form the service writes (microseconds, UTC) may be refused.
  if (!isRealIsoUtc(updatedAt) || !/\.\d{6}Z$/.test(updatedAt)) {
    v.doubt(`cursor updatedAt ${JSON.stringify(updatedAt)} is not in the form the service writes`);
  }
  if (Object.keys(position).length !== 2) v.doubt('cursor with extra fields');
  return true;
};

const seqPosition = (position: Record<string, unknown>, v: Verdicts): boolean => {
  const { seq } = position;
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq <= 0) return false;
  if (seq > INT4_MAX) v.doubt(`cursor seq ${seq} beyond any stored message`);
  if (Object.keys(position).length !== 1) v.doubt('cursor with extra fields');
  return true;
};

/** validator.js `isLength`: UTF-16 units minus surrogate pairs and variation selectors. */
function validatorLength(text: string): number {
  const presentation = text.match(/[^\uFE0F\uFE0E][\uFE0F\uFE0E]/g)?.length ?? 0;
  const pairs = text.match(/[\uD800-\uDBFF][\uDC00-\uDFFF]/g)?.length ?? 0;
  return text.length - presentation - pairs;
}

/** Length bound on "characters", which the spec does not pin to code points or UTF-16 units. */
function judgeLength(field: string, text: string, max: number, v: Verdicts): void {
  const lengths = [text.length, validatorLength(text), [...text].length];
  if (lengths.every((length) => length <= max)) return;
  if (lengths.every((length) => length > max)) return v.reject(`${field} longer than ${max}`);
  v.doubt(`${field} is ${max} characters long or not, depending on how characters are counted`);
}

/** Every object and array inside a JSON value, without recursion (bodies nest thousands deep). */
function* nodesOf(root: unknown): Generator<object> {
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const value = stack.pop();
    if (typeof value !== 'object' || value === null) continue;
    yield value;
    stack.push(...Object.values(value));
  }
}

function hasPoisonedKey(root: unknown): boolean {
  for (const node of nodesOf(root)) {
    if (Array.isArray(node)) continue;
    if (Object.prototype.hasOwnProperty.call(node, '__proto__')) return true;
    const ctor: unknown = Object.prototype.hasOwnProperty.call(node, 'constructor')
      ? (node as { constructor: unknown }).constructor
      : undefined;
    if (typeof ctor === 'object' && ctor !== null && Object.prototype.hasOwnProperty.call(ctor, 'prototype')) {
      return true;
    }
  }
  return false;
}

function judgeContentType(header: string | undefined, v: Verdicts): void {
  if (header === undefined) return v.reject('a body without Content-Type');
  const [mediaType, ...parameters] = header.split(';');
  const media = mediaType.trim();
  if (media.toLowerCase() !== 'application/json') return v.reject(`Content-Type ${header}`);
  if (media !== 'application/json') v.doubt('Content-Type in another case');
  for (const parameter of parameters) {
    if (!/^\s*charset=("?)utf-8\1\s*$/i.test(parameter)) v.doubt(`Content-Type parameter ${parameter}`);
  }
}

/** Parses a JSON body as the service must; undefined (and a rejection) when it must be refused before validation. */
function parseBody(req: WireRequest, world: OracleWorld, v: Verdicts): { value: unknown } | undefined {
  const bytes = Buffer.isBuffer(req.payload) ? req.payload : Buffer.from(req.payload ?? '', 'utf8');
  if (bytes.length > world.bodyLimit) {
    v.reject('body over the size limit');
    return undefined;
  }
  const contentType = req.headers['content-type'];
  if (bytes.length === 0) {
    if (contentType !== undefined) judgeContentType(contentType, v);
    v.reject('no body');
    return undefined;
  }
  judgeContentType(contentType, v);
  const text = decodeStrictUtf8(bytes);
  if (text === undefined) {
    v.reject('body is not valid UTF-8');
    return undefined;
  }
  if (text.charCodeAt(0) === 0xfeff) v.doubt('body starts with a byte order mark');
  try {
    const value: unknown = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
    if (hasPoisonedKey(value)) v.reject('__proto__ or constructor.prototype in the body');
    return { value };
  } catch {
    v.reject('body is not JSON');
    return undefined;
  }
}

/** JSON text is UTF-8 (RFC 8259): a body that is not must be refused, not decoded with replacement characters. */
function decodeStrictUtf8(bytes: Buffer): string | undefined {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    return undefined;
  }
}

function asObject(value: unknown, v: Verdicts): Record<string, unknown> | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    v.reject('body is not a JSON object');
    return undefined;
  }
  return value as Record<string, unknown>;
}

function judgeUndeclaredFields(body: Record<string, unknown>, declared: string[], v: Verdicts): void {
  const extra = Object.keys(body).filter((key) => !declared.includes(key));
  if (extra.length > 0) v.reject(`undeclared body fields ${extra.join(', ').slice(0, 80)}`);
}

function judgeChatBody(value: unknown, sub: string | undefined, world: OracleWorld, v: Verdicts): void {
  const body = asObject(value, v);
  if (!body) return;
  judgeUndeclaredFields(body, ['message', 'conversation_id'], v);
  const { message, conversation_id: conversationId } = body;
  if (typeof message !== 'string') v.reject('message is not a string');
  else {
    judgeLength('message', message, MESSAGE_MAX_LENGTH, v);
    judgeStorable('message', message, v);
    if (!/\S/.test(message)) v.reject('message is blank');
    else if (!/[^\s\u200b-\u200d\u2060\ufeff]/.test(message)) v.reject('message of invisible characters only');
    else if (!/[^\s\u200b-\u200d\u2060\u180e\ufeff]/.test(message)) v.doubt('message of U+180E and spaces only');
  }
  if (conversationId === null) v.doubt('conversation_id: null');
  else if (conversationId !== undefined) {
    if (typeof conversationId !== 'string' || !UUID_PATTERN.test(conversationId)) {
      v.reject('conversation_id is not a UUID');
    } else if (sub === undefined || world.ownerOf(conversationId) !== sub) {
      v.reject('conversation_id of a conversation the caller does not own');
    }
  }
}

function judgeRenameBody(value: unknown, v: Verdicts): void {
  const body = asObject(value, v);
  if (!body) return;
  judgeUndeclaredFields(body, ['title'], v);
  const { title } = body;
  if (typeof title !== 'string') return v.reject('title is not a string');
  const trimmed = title.trim();
  if (trimmed.length === 0) return v.reject('title is blank');
  judgeStorable('title', title, v);
  if (!/[^\s\u200b-\u200d\u2060\ufeff]/.test(trimmed)) v.reject('title of invisible characters only');
  judgeLength('title', trimmed, TITLE_MAX_LENGTH, v);
}

/** README: text must be storable — no U+0000 (PostgreSQL text) and no unpaired surrogate (JSON). */
function judgeStorable(field: string, text: string, v: Verdicts): void {
  if (text.includes('\u0000') || !text.isWellFormed()) v.reject(`${field} holds NUL or an unpaired surrogate`);
}

/** The verdict for one request, from its method, URL, headers and body. */
/** The URL as light-my-request sends it (it resolves the path like a browser does). */
export function wireUrl(url: string): URL {
  return new URL(url.startsWith('//') ? `http://localhost${url}` : url, 'http://localhost');
}

export function judge(req: WireRequest, world: OracleWorld): Judgement {
  const v = new Verdicts();
  const url = wireUrl(req.url);
  const match = matchRoute(url.pathname, world, v);
  const method = req.method.toUpperCase();
  if (match.route === 'unknown') v.reject('unknown route');
  else if (match.route === 'maybe-known') v.doubt('a documented route this fuzz does not model');
  else if (!match.methods.includes(method)) v.reject(`${method} is not a method of this route`);

  const query = parseQuery(url.search);
  const isApi = match.user !== undefined;
  for (const [key, values] of query) {
    if (!match.query.includes(key)) {
      // The spec makes an undeclared query parameter an error; health probes are outside /api.
      if (isApi) v.reject(`undeclared query parameter ${key.slice(0, 40)}`);
      else v.doubt(`query parameter ${key.slice(0, 40)} on a probe`);
    } else if (key === 'limit') judgeLimit(values, v);
  }

  if (isApi) {
    const sub = judgeAuth(req.headers.authorization, world, v);
    const user = match.user ?? '';
    if (user.length === 0) v.reject('empty user_id');
    else if (user.length > USER_ID_MAX_LENGTH) v.reject('user_id longer than 255');
    else judgeStorable('user_id', user, v);
    if (sub !== undefined && sub !== user) v.reject("user_id is not the token's subject");
    if (match.conversation !== undefined) {
      if (!UUID_PATTERN.test(match.conversation)) v.reject('conversation_id is not a UUID');
      else if (sub === undefined || world.ownerOf(match.conversation) !== sub) {
        v.reject('conversation of another user, or none');
      }
    }
    if (match.route === 'list' && query.has('cursor')) {
      judgeCursor(query.get('cursor') ?? [], 'conversations', conversationPosition, v);
    }
    if (match.route === 'history' && query.has('before')) {
      judgeCursor(query.get('before') ?? [], `history:${match.conversation}`, seqPosition, v);
    }
    const hasPayload = req.payload !== undefined && req.payload.length > 0;
    if (method === 'POST' && match.route === 'chat') {
      const parsed = parseBody(req, world, v);
      if (parsed) judgeChatBody(parsed.value, sub, world, v);
    } else if (method === 'PATCH' && match.route === 'conversation') {
      const parsed = parseBody(req, world, v);
      if (parsed) judgeRenameBody(parsed.value, v);
    } else if (hasPayload) v.doubt('a body on a route that reads none');
    else if (req.headers['content-type'] !== undefined) v.doubt('a Content-Type without a body');
    if (req.headers['idempotency-key'] !== undefined) v.doubt('Idempotency-Key');
  } else if (req.payload !== undefined && req.payload.length > 0) v.doubt('a body on a route that reads none');

  return { verdict: v.verdict, reasons: v.reasons, route: match.route };
}

/** Features of a request that known bugs key on (decoded, so they match however the input was spelled). */
export interface RequestFeatures {
  /** A JSON body string (any depth) or a decoded path segment holds U+0000. */
  nul: boolean;
  /** A JSON body string holds an unpaired UTF-16 surrogate. */
  loneSurrogate: boolean;
  /** A `cursor` whose updatedAt is not a real ISO 8601 UTC time. */
  nonIsoCursorTimestamp: boolean;
  /** A history `before` cursor whose seq is beyond PostgreSQL integer. */
  seqBeyondInt4: boolean;
  /** Query keys the route does not declare. */
  undeclaredQuery: boolean;
  /** A path segment longer than 100 characters (Fastify's default maxParamLength). */
  longPathSegment: boolean;
  /** Nesting depth of the JSON body's arrays and objects. */
  jsonDepth: number;
  /** The top-level body object has an undeclared key named like an Object.prototype member (`toString`). */
  prototypeNamedBodyKey: boolean;
  /** Keys of a conversations `cursor` beyond its position (`updatedAt`, `id`). */
  conversationsCursorExtraKeys: string[];
}

const OBJECT_PROTOTYPE_NAMES = new Set(Object.getOwnPropertyNames(Object.prototype));

/** The deepest nesting of `[`/`{` in a JSON text, outside strings (valid JSON or not). */
function nestingDepth(text: string): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i += 1) {
    const char = text[i];
    if (inString) {
      if (char === '\\') i += 1;
      else if (char === '"') inString = false;
    } else if (char === '"') inString = true;
    else if (char === '[' || char === '{') deepest = Math.max(deepest, ++depth);
    else if (char === ']' || char === '}') depth -= 1;
  }
  return deepest;
}

function someString(root: unknown, test: (text: string) => boolean): boolean {
  if (typeof root === 'string') return test(root);
  for (const node of nodesOf(root)) {
    for (const [key, value] of Object.entries(node)) {
      if (test(key) || (typeof value === 'string' && test(value))) return true;
    }
  }
  return false;
}

export function featuresOf(req: WireRequest, world: OracleWorld): RequestFeatures {
  const url = wireUrl(req.url);
  const segments = url.pathname.split('/').map((segment) => decodeSegment(segment) ?? segment);
  const text = (Buffer.isBuffer(req.payload) ? req.payload.toString('utf8') : (req.payload ?? '')).replace(
    /^\ufeff/,
    '',
  );
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  const throwaway = new Verdicts();
  const match = matchRoute(url.pathname, world, throwaway);
  const query = parseQuery(url.search);
  const cursors = [...(query.get('cursor') ?? []), ...(query.get('before') ?? [])].map(decodeCursorText);
  return {
    nul: someString(body, (text) => text.includes('\u0000')) || segments.some((segment) => segment.includes('\u0000')),
    loneSurrogate: someString(body, (text) => LONE_SURROGATE.test(text)),
    nonIsoCursorTimestamp: cursors.some(
      (cursor) => typeof cursor?.updatedAt === 'string' && !isRealIsoUtc(cursor.updatedAt),
    ),
    seqBeyondInt4: cursors.some((cursor) => typeof cursor?.seq === 'number' && cursor.seq > INT4_MAX),
    undeclaredQuery: match.user !== undefined && [...query.keys()].some((key) => !match.query.includes(key)),
    longPathSegment: url.pathname.split('/').some((segment) => segment.length > 100),
    jsonDepth: nestingDepth(text),
    conversationsCursorExtraKeys: (query.get('cursor') ?? [])
      .map(decodeCursorText)
      .flatMap((cursor) => Object.keys(cursor ?? {}).filter((key) => !['scope', 'updatedAt', 'id'].includes(key))),
    prototypeNamedBodyKey:
      typeof body === 'object' && body !== null && Object.keys(body).some((key) => OBJECT_PROTOTYPE_NAMES.has(key)),
  };
}
