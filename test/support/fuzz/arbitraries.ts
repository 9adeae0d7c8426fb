import fc from 'fast-check';

/**
 * Requests as data: what to send, with references (`B`'s conversation, `A`'s cursor…) resolved only
 * when the request is built, so a shrunk counterexample still names real rows.
 */
export type RouteKind = 'chat' | 'history' | 'list' | 'get' | 'patch' | 'delete' | 'tools' | 'live' | 'ready';

export type UserRef =
  | { kind: 'B' }
  | { kind: 'A' }
  /** A path segment sent as is (already percent-encoded, or deliberately not). */
  | { kind: 'segment'; segment: string };

export type ConvRef =
  | { kind: 'B'; index: number }
  | { kind: 'B-upper'; index: number }
  | { kind: 'A'; index: number }
  | { kind: 'segment'; segment: string };

export type CursorRef = 'B-list' | 'A-list' | 'B-history' | 'A-history';

export type QueryValue =
  | { kind: 'text'; text: string }
  | { kind: 'cursor'; ref: CursorRef }
  /** base64url JSON of `{scope, ...position}`; `scope: 'auto'` is this request's own history scope. */
  | { kind: 'position'; scope: string; position: Record<string, unknown> };

export type TokenShape =
  | 'valid'
  | 'expired'
  | 'not-yet-valid'
  | 'wrong-secret'
  | 'alg-none'
  | 'no-exp'
  | 'sub-number'
  | 'sub-empty'
  | 'sub-too-long'
  | 'garbage-signature';

export type AuthSpec =
  | { kind: 'none' }
  | { kind: 'raw'; header: string }
  /**
   * `subject: 'path'` signs for whatever user id the path names (decoded), so requests reach the database;
   * `'other'` is a third user with no data. The fuzz never signs for user A.
   */
  | {
      kind: 'token';
      subject: 'B' | 'other' | 'path' | { sub: string };
      shape: TokenShape;
      scheme: string;
      suffix: string;
    };

export type BodySpec =
  | { kind: 'json'; value: unknown; conversation?: ConvRef }
  | { kind: 'raw'; text: string }
  | { kind: 'bytes'; bytes: Uint8Array }
  /** A string field repeated to a given size: up to and beyond the field and body limits. */
  | { kind: 'huge'; field: string; unit: string; count: number };

export type PathSpec =
  { kind: 'route'; route: RouteKind; user: UserRef; conversation: ConvRef } | { kind: 'raw'; path: string };

export interface FuzzCase {
  method: string;
  path: PathSpec;
  query: [string, QueryValue][];
  /** Appended to the query string as is (junk that is not key=value). */
  rawQuery?: string;
  auth: AuthSpec;
  contentType?: string;
  body?: BodySpec;
  requestId?: string;
  accept?: string;
  idempotencyKey?: string;
}

export interface ArbitraryWorld {
  userA: string;
  userB: string;
  aConversations: number;
  bConversations: number;
  bodyLimit: number;
  toolsRoute: boolean;
}

export const ROUTE_METHOD: Record<RouteKind, string> = {
  chat: 'POST',
  history: 'GET',
  list: 'GET',
  get: 'GET',
  patch: 'PATCH',
  delete: 'DELETE',
  tools: 'GET',
  live: 'GET',
  ready: 'GET',
};

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'TRACE', 'SEARCH', 'PROPFIND', 'LOCK'];

/** `arbitrary` in about `share` of the cases, else undefined (fc.option's `freq` counts the other way). */
export const sometimes = <T>(arbitrary: fc.Arbitrary<T>, share: number): fc.Arbitrary<T | undefined> =>
  fc.oneof(
    // Absent first: fast-check shrinks towards the first alternative, so counterexamples lose optional parts.
    { weight: Math.round((1 - share) * 100), arbitrary: fc.constant(undefined) },
    { weight: Math.round(share * 100), arbitrary },
  );

// ---------------------------------------------------------------- strings

/** Characters that break naive code: NUL, lone surrogates, zero-width and bidi controls, astral, quotes. */
export const TRICKY_CHARS = [
  '\u0000',
  '\ud800',
  '\udfff',
  '\u200b',
  '\u200d',
  '\u2060',
  '\ufeff',
  '\u202e',
  '\u061c',
  '\u2028',
  '\u0085',
  '\u007f',
  '\u0301',
  'e\u0301',
  'שלום',
  'مرحبا',
  '𝕏',
  '😀',
  '👩‍👩‍👧',
  '\u00a0',
  '\u3000',
  ' ',
  '\t',
  '\n',
  '\r\n',
  '"',
  '\\',
  "'",
  '`',
  '<script>alert(1)</script>',
  "' OR 1=1 --",
  "'); DROP TABLE conversations; --",
  '${jndi:ldap://x}',
  '{{user_id}}',
  '%00',
  '%s%n',
  '../',
  '\\u0000',
];

const tricky = fc.constantFrom(...TRICKY_CHARS);

export const fuzzString: fc.Arbitrary<string> = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 24 }),
  fc.string({ unit: 'binary', maxLength: 24 }),
  fc.string({ unit: 'grapheme-ascii', maxLength: 24 }),
  fc
    .array(fc.oneof(tricky, fc.string({ unit: 'grapheme', maxLength: 3 })), { maxLength: 8 })
    .map((parts) => parts.join('')),
);

/** Strings at and around the field limits (200, 8000), and far beyond them. */
export const longString: fc.Arbitrary<string> = fc
  .tuple(
    fc.oneof(
      fc.constantFrom('x', ' ', '😀', 'e\u0301', '\u200b', 'ש'),
      tricky,
      fc.string({ minLength: 1, maxLength: 3 }),
    ),
    fc.oneof(fc.constantFrom(199, 200, 201, 7999, 8000, 8001), fc.integer({ min: 1, max: 20_000 })),
  )
  .map(([unit, count]) => unit.repeat(count));

/** Messages the service must accept: not blank, at most 8000 UTF-16 units, well-formed UTF-16, no NUL. */
export const validMessage: fc.Arbitrary<string> = fc
  .tuple(
    fc.constantFrom('', ' ', '\n', '\t  '),
    fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }),
    fc.oneof({ weight: 4, arbitrary: fc.constant(1) }, { weight: 1, arbitrary: fc.integer({ min: 2, max: 400 }) }),
    fc.constantFrom('', ' ', '\n'),
  )
  .map(([before, core, times, after]) => `${before}${core.repeat(times)}${after}`)
  .filter((message) => message.length <= 8000 && /[^\s\u200b-\u200d\u2060\u180e\ufeff]/.test(message));

export const validTitle: fc.Arbitrary<string> = fc
  .tuple(
    fc.constantFrom('', ' '),
    fc.string({ unit: 'grapheme', minLength: 1, maxLength: 120 }),
    fc.constantFrom('', '\t'),
  )
  .map(([a, b, c]) => `${a}${b}${c}`)
  .filter((title) => title.trim().length > 0 && title.trim().length <= 200);

/** A valid string with tricky characters spliced in: still valid (NUL and lone surrogates included, per the DTOs). */
const withTricky = (valid: fc.Arbitrary<string>): fc.Arbitrary<string> =>
  fc.tuple(valid, fc.array(fc.tuple(tricky, fc.nat()), { minLength: 1, maxLength: 3 })).map(([text, inserts]) =>
    inserts.reduce((acc, [char, at]) => {
      const i = at % (acc.length + 1);
      return acc.slice(0, i) + char + acc.slice(i);
    }, text),
  );

// ---------------------------------------------------------------- ids and path segments

const uuidLikeInvalid: fc.Arbitrary<string> = fc.uuid().chain((uuid) =>
  fc.constantFrom(
    uuid.replace(/-/g, ''),
    `${uuid}0`,
    uuid.slice(1),
    `{${uuid}}`,
    `urn:uuid:${uuid}`,
    uuid.replace(/[0-9a-f]$/, 'g'),
    uuid.replace(/^(.{14})./, '$10'), // version 0
    uuid.replace(/^(.{19})./, '$1c'), // variant c
    ` ${uuid}`,
    uuid.replace(/-/, '_'),
    `${uuid}\u0000`,
    uuid.toUpperCase().replace(/-/g, '‐'),
  ),
);

export const junkSegment: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    '..',
    '.',
    '%2e%2e',
    '%2E',
    '%',
    '%zz',
    '%E0%A4%A',
    '%C0%AF',
    '%FF',
    '%00',
    '%2F',
    '%5C',
    '%20',
    '~',
    '*',
    "'",
    'null',
    'undefined',
    '0',
    '-1',
    '__proto__',
    'constructor',
  ),
  fuzzString.filter((text) => text.length > 0).map(encodeURIComponentSafe),
  fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 20 }).map((text) => text.replace(/[/?#]/g, '')),
  fc.integer({ min: 95, max: 400 }).map((length) => 'x'.repeat(length)),
  fc.uuid(),
  uuidLikeInvalid.map(encodeURIComponentSafe),
);

/** encodeURIComponent that keeps lone surrogates as an (invalid) percent sequence instead of throwing. */
export function encodeURIComponentSafe(text: string): string {
  return [...text]
    .map((char) => {
      try {
        return encodeURIComponent(char);
      } catch {
        return `%${char.charCodeAt(0).toString(16).toUpperCase()}`;
      }
    })
    .join('');
}

/** The same id with some characters percent-encoded: it decodes to the same user. */
const encodedVariant = (id: string): fc.Arbitrary<string> =>
  fc
    .array(fc.boolean(), { minLength: id.length, maxLength: id.length })
    .map((flags) =>
      [...id].map((char, i) => (flags[i] ? `%${char.charCodeAt(0).toString(16).padStart(2, '0')}` : char)).join(''),
    );

export const userRef = (world: ArbitraryWorld): fc.Arbitrary<UserRef> =>
  fc.oneof(
    { weight: 6, arbitrary: fc.constant<UserRef>({ kind: 'B' }) },
    { weight: 1, arbitrary: fc.constant<UserRef>({ kind: 'A' }) },
    { weight: 2, arbitrary: junkSegment.map((segment): UserRef => ({ kind: 'segment', segment })) },
    { weight: 1, arbitrary: encodedVariant(world.userB).map((segment): UserRef => ({ kind: 'segment', segment })) },
  );

export const convRef = (world: ArbitraryWorld): fc.Arbitrary<ConvRef> =>
  fc.oneof(
    { weight: 5, arbitrary: fc.nat(world.bConversations - 1).map((index): ConvRef => ({ kind: 'B', index })) },
    { weight: 1, arbitrary: fc.nat(world.bConversations - 1).map((index): ConvRef => ({ kind: 'B-upper', index })) },
    { weight: 2, arbitrary: fc.nat(world.aConversations - 1).map((index): ConvRef => ({ kind: 'A', index })) },
    { weight: 1, arbitrary: fc.uuid({ version: 4 }).map((segment): ConvRef => ({ kind: 'segment', segment })) },
    { weight: 2, arbitrary: junkSegment.map((segment): ConvRef => ({ kind: 'segment', segment })) },
  );

// ---------------------------------------------------------------- queries and cursors

const limitText = fc.oneof(
  fc.integer({ min: 1, max: 200 }).map(String),
  fc.constantFrom('0', '-1', '201', '1.5', '1e2', '0x10', ' 5', '05', '+5', 'NaN', 'Infinity', '', '-0', '2147483648'),
  fc.constantFrom('9'.repeat(400), '1e309', '[]', '{}', 'true', 'null', '٣'),
  fc.integer().map(String),
  fc.double().map(String),
  fuzzString,
);

const weirdTimestamp = fc.oneof(
  fc
    .date({ min: new Date('1970-01-01'), max: new Date('2100-01-01'), noInvalidDate: true })
    .map((d) => d.toISOString()),
  fc.constantFrom(
    '1',
    '2020',
    '2020-01-01',
    'Tue Mar 01 2022',
    '+275760-09-13T00:00:00.000Z',
    '-271821-04-20T00:00:00.000Z',
    '2020-02-30T00:00:00Z',
    '0001-01-01T00:00:00Z',
    '2020-01-01T00:00:00.1234567Z',
    '2020-01-01 00:00:00+14:00',
    'infinity',
    '',
  ),
  fuzzString,
);

const seqValue = fc.oneof(
  fc.integer({ min: 1, max: 2 ** 31 - 1 }),
  fc.constantFrom(0, -1, 2 ** 31, 2 ** 53 - 1, 2 ** 53, 1.5, 1e300, '5', null, true, [1]),
  fc.integer({ min: 2 ** 31, max: Number.MAX_SAFE_INTEGER }),
);

const jsonish = fc.jsonValue({ maxDepth: 3 });

export const cursorValue: fc.Arbitrary<QueryValue> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc
      .constantFrom<CursorRef>('B-list', 'A-list', 'B-history', 'A-history')
      .map((ref) => ({ kind: 'cursor' as const, ref })),
  },
  {
    weight: 3,
    arbitrary: fc
      .record({
        scope: fc.constantFrom('auto', 'auto', 'conversations', 'history:', 'Conversations', ''),
        updatedAt: weirdTimestamp,
        id: fc.oneof(fc.uuid(), uuidLikeInvalid, jsonish),
        extra: sometimes(
          fc.dictionary(
            fc.oneof(
              fc.constantFrom('userId', 'user_id', 'conversationId', 'limit', 'scope', 'id', '', 'a-b', 'x.y'),
              fc.string({ maxLength: 5 }),
            ),
            jsonish,
            { maxKeys: 2 },
          ),
          0.2,
        ),
      })
      .map(({ scope, updatedAt, id, extra }) => ({
        kind: 'position' as const,
        scope,
        position: { updatedAt, id, ...extra },
      })),
  },
  {
    weight: 4,
    arbitrary: fc
      .record({ scope: fc.constantFrom('auto', 'auto', 'auto', 'conversations', 'history:x'), seq: seqValue })
      .map(({ scope, seq }) => ({ kind: 'position' as const, scope, position: { seq } })),
  },
  {
    weight: 2,
    arbitrary: fc.oneof(jsonish, fc.anything({ maxDepth: 2 })).map((value) => ({
      kind: 'text' as const,
      text: Buffer.from(JSON.stringify(value) ?? 'undefined').toString('base64url'),
    })),
  },
  { weight: 2, arbitrary: fuzzString.map((text) => ({ kind: 'text' as const, text })) },
  {
    weight: 1,
    arbitrary: fc
      .integer({ min: 500, max: 5000 })
      .map((length) => ({ kind: 'text' as const, text: 'A'.repeat(length) })),
  },
);

/** Query pairs, mostly of the keys the route declares (so a value, not an unknown key, decides the answer). */
export const queryPairs = (route: RouteKind | undefined): fc.Arbitrary<[string, QueryValue][]> => {
  const declared =
    route === 'list' ? ['limit', 'cursor'] : route === 'history' ? ['limit', 'before'] : ['limit', 'cursor', 'before'];
  const key = fc.oneof(
    { weight: 8, arbitrary: fc.constantFrom(...declared) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        'limit[]',
        'LIMIT',
        '__proto__',
        'constructor',
        'x',
        '',
        'cursor[a]',
        'limit ',
        'toString',
      ),
    },
    { weight: 1, arbitrary: fuzzString },
  );
  return fc.array(
    key.chain((name) =>
      fc.tuple(
        fc.constant(name),
        name === 'cursor' || name === 'before'
          ? cursorValue
          : limitText.map((text): QueryValue => ({ kind: 'text', text })),
      ),
    ),
    { maxLength: 3 },
  );
};

export const rawQuery = fc.oneof(
  fc.constantFrom('&&&', '=', '==', 'limit', 'limit=1;limit=2', '%', '%zz=1', 'a=%E0%A4%A', '#frag', '?', 'cursor=%00'),
  fc.string({ unit: 'grapheme-ascii', maxLength: 30 }),
);

// ---------------------------------------------------------------- headers

export const contentType = fc.oneof(
  { weight: 8, arbitrary: fc.constant('application/json') },
  {
    weight: 4,
    arbitrary: fc.constantFrom(
      'application/json; charset=utf-8',
      'application/json; charset=UTF-8',
      'application/json; charset=latin1',
      'application/json;charset=utf-16',
      'APPLICATION/JSON',
      'application/json;',
      'application/json; boundary=x',
      'text/plain',
      'text/plain; charset=utf-8',
      'multipart/form-data; boundary=----x',
      'application/x-www-form-urlencoded',
      'application/xml',
      'application/vnd.api+json',
      'application/problem+json',
      'application/jsonx',
      'application/',
      '/json',
      ';;;',
      '',
      ' ',
      '*/*',
    ),
  },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme-ascii', maxLength: 40 }) },
);

export const requestId = fc.oneof(
  fc.stringMatching(/^[A-Za-z0-9._:-]{1,128}$/),
  fc.constantFrom('', ' ', 'a'.repeat(129), 'bad id\u0007<script>', '../../etc/passwd', 'x\r\nSet-Cookie: a=b', 'ü'),
  fc.string({ unit: 'grapheme-ascii', maxLength: 200 }),
);

const tokenShape = fc.constantFrom<TokenShape>(
  'expired',
  'not-yet-valid',
  'wrong-secret',
  'alg-none',
  'no-exp',
  'sub-number',
  'sub-empty',
  'sub-too-long',
  'garbage-signature',
);

export const authSpec = (subject: 'B' | 'path'): fc.Arbitrary<AuthSpec> =>
  fc.oneof(
    {
      weight: 10,
      arbitrary: fc.constant<AuthSpec>({ kind: 'token', subject, shape: 'valid', scheme: 'Bearer', suffix: '' }),
    },
    {
      weight: 2,
      arbitrary: fc
        .record({
          subject: fc.constantFrom<'B' | 'other' | 'path'>(subject, 'other'),
          shape: fc.oneof(
            { weight: 2, arbitrary: fc.constant<TokenShape>('valid') },
            { weight: 3, arbitrary: tokenShape },
          ),
          scheme: fc.constantFrom('Bearer', 'bearer', 'BEARER', 'Bearer ', 'Bearer\t', 'Token', 'JWT', 'Basic', ''),
          suffix: fc.constantFrom('', '', ' ', ' extra', '.', '\t'),
        })
        .map((spec): AuthSpec => ({ kind: 'token', ...spec })),
    },
    {
      weight: 2,
      arbitrary: fc
        .oneof(
          fc.constantFrom(
            '',
            'Bearer',
            'Bearer ',
            'Bearer  x',
            'Bearer null',
            'Bearer a.b.c',
            'Basic dXNlcjpwYXNz',
            'Digest x',
          ),
          fc.constantFrom('Bearer eyJhbGciOiJIUzI1NiJ9.e30.', 'Bearer ..', 'Bearer ' + '.'.repeat(3000)),
          fc.integer({ min: 8_000, max: 120_000 }).map((n) => `Bearer ${'a'.repeat(n)}`),
          fc.string({ unit: 'grapheme-ascii', maxLength: 60 }),
          fc.string({ unit: 'grapheme-ascii', maxLength: 60 }).map((text) => `Bearer ${text}`),
        )
        .map((header): AuthSpec => ({ kind: 'raw', header })),
    },
    { weight: 1, arbitrary: fc.constant<AuthSpec>({ kind: 'none' }) },
  );

// ---------------------------------------------------------------- bodies

const extraKeys = fc.dictionary(
  fc.oneof(fc.constantFrom('user_id', 'role', 'id', 'title', 'message', 'toString', 'isAdmin', ''), fuzzString),
  jsonish,
  { maxKeys: 3 },
);

/** `message` and `conversation_id` of every type, valid, near-valid and absurd, plus undeclared fields. */
export const chatBody = (world: ArbitraryWorld): fc.Arbitrary<BodySpec> =>
  fc
    .record({
      message: sometimes(
        fc.oneof(
          { weight: 4, arbitrary: validMessage },
          { weight: 3, arbitrary: withTricky(validMessage) },
          { weight: 3, arbitrary: fuzzString },
          { weight: 2, arbitrary: longString },
          { weight: 2, arbitrary: jsonish },
          { weight: 1, arbitrary: fc.constantFrom(' ', '\n\t', '\u200b', '\u00a0\u3000', '', 'null', '123', '\u0000') },
        ),
        0.9,
      ),
      conversation: sometimes(convRef(world), 0.5),
      conversationValue: sometimes(fc.oneof(uuidLikeInvalid, jsonish, fc.uuid()), 0.2),
      extra: sometimes(extraKeys, 0.25),
    })
    .map(({ message, conversation, conversationValue, extra }): BodySpec => {
      const value: Record<string, unknown> = { ...extra };
      if (message !== undefined) value.message = message;
      if (conversationValue !== undefined) value.conversation_id = conversationValue;
      return { kind: 'json', value, conversation };
    });

export const renameBody: fc.Arbitrary<BodySpec> = fc
  .record({
    title: sometimes(
      fc.oneof(
        { weight: 4, arbitrary: validTitle },
        { weight: 3, arbitrary: withTricky(validTitle) },
        { weight: 3, arbitrary: fuzzString },
        { weight: 2, arbitrary: longString },
        { weight: 2, arbitrary: jsonish },
      ),
      0.9,
    ),
    extra: sometimes(extraKeys, 0.25),
  })
  .map(({ title, extra }): BodySpec => ({
    kind: 'json',
    value: title === undefined ? { ...extra } : { ...extra, title },
  }));

/** Bodies that are not a plain JSON object of the right fields: any JSON, broken JSON, bytes, huge and deep. */
export const anyBody = (bodyLimit: number): fc.Arbitrary<BodySpec> =>
  fc.oneof(
    { weight: 3, arbitrary: fc.jsonValue().map((value): BodySpec => ({ kind: 'json', value })) },
    {
      weight: 3,
      arbitrary: fc
        .tuple(
          fc.constantFrom('message', 'title'),
          fc.constantFrom(
            '"a\\ud800b"',
            '"\\udfff"',
            '"a\\u0000b"',
            '"\\u0000"',
            '"x"',
            '"\\ud83d\\ude00"',
            '1e999',
            '-0',
            '123456789012345678901234567890',
            'NaN',
            'Infinity',
            "'x'",
            'undefined',
            '"x",',
            '"x"}{',
            '"\u2028"',
          ),
          fc.constantFrom(
            '',
            '',
            ',"message":"dup"',
            ',"title":1',
            ',"__proto__":{"x":1}',
            ',"constructor":{"prototype":{}}',
          ),
          fc.constantFrom('', '', ' ', '}', '\n//c', 'garbage'),
          fc.constantFrom('', '', '\ufeff', ' \n'),
        )
        .map(([field, value, more, after, before]): BodySpec => ({
          kind: 'raw',
          text: `${before}{"${field}":${value}${more}}${after}`,
        })),
    },
    {
      weight: 1,
      arbitrary: fc
        .constantFrom(
          '',
          ' ',
          '{',
          '}',
          '[]',
          'null',
          'true',
          '0',
          '"x"',
          '{"message":',
          'message=hi',
          '\u0000',
          '{}',
          '{"":""}',
        )
        .map((text): BodySpec => ({ kind: 'raw', text })),
    },
    {
      weight: 1,
      arbitrary: fc
        .tuple(fc.integer({ min: 50, max: 60_000 }), fc.constantFrom('[', '{"a":'), fc.constantFrom('message', 'title'))
        .map(([depth, open, field]): BodySpec => {
          const close = open === '[' ? ']' : '}';
          return { kind: 'raw', text: `{"${field}":${open.repeat(depth)}1${close.repeat(depth)}}` };
        }),
    },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }).map((bytes): BodySpec => ({ kind: 'bytes', bytes })) },
    {
      weight: 1,
      arbitrary: fc
        .tuple(
          fc.constantFrom('message', 'title'),
          fc.constantFrom([0xff], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xe2, 0x82]),
        )
        .map(([field, bad]): BodySpec => ({
          kind: 'bytes',
          bytes: Uint8Array.from([...Buffer.from(`{"${field}":"a`), ...bad, ...Buffer.from('b"}')]),
        })),
    },
    {
      weight: 2,
      arbitrary: fc
        .record({
          field: fc.constantFrom('message', 'title', 'junk'),
          unit: fc.constantFrom('a', '😀', '\u0000', 'é', ' ', '\\'),
          count: fc.oneof(
            fc.integer({ min: bodyLimit - 64, max: bodyLimit + 64 }),
            fc.integer({ min: 8_000, max: bodyLimit * 2 }),
          ),
        })
        .map(({ field, unit, count }): BodySpec => ({
          kind: 'huge',
          field,
          unit,
          count: Math.ceil(count / Buffer.byteLength(JSON.stringify(unit).slice(1, -1))),
        })),
    },
  );

// ---------------------------------------------------------------- whole requests

export interface CaseOptions {
  /** Which parts are fuzzed; the others take a valid value for user B. */
  fuzz: {
    method?: boolean;
    path?: boolean;
    query?: boolean;
    auth?: boolean;
    contentType?: boolean;
    body?: boolean;
    headers?: boolean;
  };
  routes?: RouteKind[];
  /** Sign the token for the path's user id (whatever it is) instead of for user B. */
  tokenForPathUser?: boolean;
  /** Share of raw unknown paths, 0..1. */
  unknownPaths?: number;
}

const unknownPath = (world: ArbitraryWorld): fc.Arbitrary<PathSpec> =>
  fc
    .oneof(
      fc.webPath().map((path) => (path.startsWith('/') ? path : `/${path}`)),
      fc.constantFrom(
        '/',
        '/api',
        `/api/${world.userB}`,
        `/api/${world.userB}/`,
        `/api/${world.userB}/chats`,
        `/API/${world.userB}/chat`,
        `/api/${world.userB}/chat/x/y/z`,
        `/api/${world.userB}/conversations/a/b`,
        '/health',
        '/health/',
        '/health/alive',
        '/api//conversations',
        '//',
        '/%',
        '/..%2f..%2fetc%2fpasswd',
        '/\u0000',
        '/api/%00/chat',
      ),
      fc.array(junkSegment, { minLength: 1, maxLength: 4 }).map((segments) => `/zz-${segments.join('/')}`),
      junkSegment.map((segment) => `/api/${world.userB}/${segment}`),
      junkSegment.map((segment) => `/health/${segment}`),
    )
    .map((path): PathSpec => ({ kind: 'raw', path }));

export function fuzzCase(world: ArbitraryWorld, options: CaseOptions): fc.Arbitrary<FuzzCase> {
  const routes =
    options.routes ??
    ([
      'chat',
      'history',
      'list',
      'get',
      'patch',
      'delete',
      'live',
      'ready',
      ...(world.toolsRoute ? ['tools'] : []),
    ] as RouteKind[]);
  const { fuzz } = options;
  const routeAndBody = fc.constantFrom(...routes).chain((route) =>
    fc.record({
      route: fc.constant(route),
      user: fuzz.path ? userRef(world) : fc.constant<UserRef>({ kind: 'B' }),
      conversation: fuzz.path
        ? convRef(world)
        : fc.nat(world.bConversations - 1).map((index): ConvRef => ({ kind: 'B', index })),
      body: fuzz.body
        ? fc.oneof(
            { weight: 3, arbitrary: route === 'patch' ? renameBody : chatBody(world) },
            { weight: 2, arbitrary: anyBody(world.bodyLimit) },
            { weight: route === 'chat' || route === 'patch' ? 0 : 2, arbitrary: fc.constant(undefined) },
          )
        : route === 'chat'
          ? validMessage.map((message): BodySpec => ({ kind: 'json', value: { message } }))
          : route === 'patch'
            ? validTitle.map((title): BodySpec => ({ kind: 'json', value: { title } }))
            : fc.constant(undefined),
    }),
  );
  const unknownShare = options.unknownPaths ?? 0;
  const path = fc.oneof(
    { weight: Math.round((1 - unknownShare) * 100), arbitrary: routeAndBody },
    {
      weight: Math.round(unknownShare * 100),
      arbitrary: fc.record({
        route: fc.constant(undefined),
        path: unknownPath(world),
        body: sometimes(anyBody(world.bodyLimit), 0.3),
      }),
    },
  );
  return path.chain((picked) => {
    const route = picked.route;
    const pathSpec: PathSpec =
      'path' in picked
        ? picked.path
        : { kind: 'route', route: route as RouteKind, user: picked.user, conversation: picked.conversation };
    const naturalMethod = route ? ROUTE_METHOD[route] : 'GET';
    const hasBody = picked.body !== undefined && picked.body !== null;
    return fc.record({
      method: fuzz.method
        ? fc.oneof(
            { weight: 4, arbitrary: fc.constant(naturalMethod) },
            { weight: 1, arbitrary: fc.constantFrom(...METHODS) },
          )
        : fc.constant(naturalMethod),
      path: fc.constant(pathSpec),
      query: fuzz.query ? queryPairs(route) : validQuery(route),
      rawQuery: fuzz.query ? sometimes(rawQuery, 0.15) : fc.constant(undefined),
      auth: fuzz.auth
        ? authSpec(options.tokenForPathUser ? 'path' : 'B')
        : fc.constant(validAuth(options.tokenForPathUser)),
      contentType: hasBody
        ? fuzz.contentType
          ? sometimes(contentType, 0.9)
          : fc.constant('application/json')
        : fuzz.contentType
          ? sometimes(contentType, 0.3)
          : fc.constant(undefined),
      body: fc.constant(picked.body ?? undefined),
      requestId: fuzz.headers ? sometimes(requestId, 0.5) : fc.constant(undefined),
      accept: fuzz.headers
        ? sometimes(
            fc.constantFrom('application/json', '*/*', 'text/event-stream', 'application/xml', 'text/html;q=0'),
            0.3,
          )
        : fc.constant(undefined),
      idempotencyKey: fuzz.headers
        ? sometimes(fc.oneof(fuzzString.map(encodeURIComponentSafe), fc.constant('k'.repeat(300))), 0.1)
        : fc.constant(undefined),
    });
  });
}

const validAuth = (tokenForPathUser?: boolean): AuthSpec => ({
  kind: 'token',
  subject: tokenForPathUser ? 'path' : 'B',
  shape: 'valid',
  scheme: 'Bearer',
  suffix: '',
});

/** A query the route declares, with valid values (B's own cursors). */
function validQuery(route: RouteKind | undefined): fc.Arbitrary<[string, QueryValue][]> {
  const limit = fc.option(
    fc.integer({ min: 1, max: 200 }).map((n): [string, QueryValue] => ['limit', { kind: 'text', text: String(n) }]),
    { nil: undefined },
  );
  if (route === 'list') {
    return fc
      .tuple(limit, fc.option(fc.constantFrom<CursorRef>('B-list', 'A-list'), { nil: undefined }))
      .map(([l, cursor]) => [
        ...(l ? [l] : []),
        ...(cursor ? [['cursor', { kind: 'cursor', ref: cursor }] as [string, QueryValue]] : []),
      ]);
  }
  if (route === 'history') {
    return limit.map((l) => (l ? [l] : []));
  }
  return fc.constant([]);
}

/** Only valid requests of user B: the fuzz must not pass by refusing everything. */
export function validCase(world: ArbitraryWorld): fc.Arbitrary<FuzzCase> {
  return fuzzCase(world, { fuzz: {} }).chain((base) =>
    fc
      .record({
        requestId: fc.option(fc.stringMatching(/^[A-Za-z0-9._:-]{1,64}$/), { nil: undefined }),
        contentType: fc.constantFrom('application/json', 'application/json; charset=utf-8'),
        historyCursor: fc.boolean(),
        conversation: fc.option(fc.nat(world.bConversations - 1), { nil: undefined }),
      })
      .map(({ requestId: id, contentType: type, historyCursor, conversation }): FuzzCase => {
        const route = base.path.kind === 'route' ? base.path.route : undefined;
        const next: FuzzCase = { ...base, requestId: id };
        if (base.body) next.contentType = type;
        if (route === 'history' && historyCursor && base.path.kind === 'route') {
          next.path = { ...base.path, conversation: { kind: 'B', index: 0 } };
          next.query = [...base.query, ['before', { kind: 'cursor', ref: 'B-history' }]];
        }
        if (route === 'chat' && base.body?.kind === 'json' && conversation !== undefined) {
          next.body = { ...base.body, conversation: { kind: 'B', index: conversation } };
        }
        return next;
      }),
  );
}
