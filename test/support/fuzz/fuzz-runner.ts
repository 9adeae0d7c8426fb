import jwt from 'jsonwebtoken';
import type { TestApp } from '../test-app';
import { insertConversation } from '../factories';
import {
  encodeURIComponentSafe,
  type ArbitraryWorld,
  type AuthSpec,
  type BodySpec,
  type ConvRef,
  type CursorRef,
  type FuzzCase,
  type QueryValue,
  type UserRef,
} from './arbitraries';
import { featuresOf, judge, wireUrl, type Judgement, type OracleWorld, type WireRequest } from './oracle';
import { checkResponse, KNOWN_BUGS, outcomeOf, type LeakGuard, type Observed, type Violation } from './response-checks';

export interface FuzzWorld extends ArbitraryWorld {
  aConversationIds: string[];
  /** B's conversations; the first one has enough messages for a history cursor. */
  bConversationIds: string[];
  cursors: Record<CursorRef, string>;
}

export interface FuzzStats {
  /** Fuzzed requests sent, per property. */
  inputs: Record<string, number>;
  /** Requests sent to verify an answer (history after a turn), not fuzzed themselves. */
  verifications: number;
  /** Responses that hit a known (pinned) bug, per bug id. */
  knownBugHits: Record<string, number>;
  verdicts: Record<string, number>;
  statuses: Record<string, number>;
  /** Why the oracle did not call requests valid (first reason of each), for tuning the arbitraries. */
  reasons: Record<string, number>;
}

export interface Sent {
  req: WireRequest;
  observed: Observed;
  judgement: Judgement;
  caller: string | undefined;
}

/** Sends generated requests to one app as user B, judges and checks each answer, and keeps the tally. */
export class FuzzRunner {
  readonly stats: FuzzStats = {
    inputs: {},
    verifications: 0,
    knownBugHits: {},
    verdicts: {},
    statuses: {},
    reasons: {},
  };
  private readonly owners = new Map<string, string>();
  private readonly oracleWorld: OracleWorld;

  constructor(
    private readonly t: TestApp,
    readonly world: FuzzWorld,
    private readonly jwtSecret: string,
    private readonly guard: LeakGuard,
  ) {
    world.aConversationIds.forEach((id) => this.owners.set(id.toLowerCase(), world.userA));
    world.bConversationIds.forEach((id) => this.owners.set(id.toLowerCase(), world.userB));
    this.oracleWorld = {
      jwtSecret,
      bodyLimit: world.bodyLimit,
      toolsRoute: world.toolsRoute,
      ownerOf: (id) => this.owners.get(id.toLowerCase()),
    };
  }

  /** Builds, sends and checks one case; throws with a full report on any violation no known bug explains. */
  async run(property: string, fuzzCase: FuzzCase): Promise<Sent> {
    const { req, caller } = await this.materialize(fuzzCase);
    const judgement = judge(req, this.oracleWorld);
    const response = await this.t.app.inject({
      method: req.method as 'GET',
      url: req.url,
      headers: req.headers,
      payload: req.payload,
    });
    const observed: Observed = { status: response.statusCode, headers: response.headers, body: response.body };
    this.tally(property, judgement, observed);

    const violations = checkResponse(req, observed, judgement, this.guard);
    const unexplained = this.excuseKnownBugs(req, observed, violations);
    if (unexplained.length > 0) throw new Error(report(req, observed, judgement, unexplained));

    this.learn(req, observed, judgement, caller);
    return { req, observed, judgement, caller };
  }

  /** An extra request to verify an answer (as user B). */
  async verify(method: 'GET', url: string): Promise<Observed> {
    this.stats.verifications += 1;
    const response = await this.t.app.inject({
      method,
      url,
      headers: { authorization: `Bearer ${this.sign(this.world.userB)}` },
    });
    return { status: response.statusCode, headers: response.headers, body: response.body };
  }

  private tally(property: string, judgement: Judgement, observed: Observed): void {
    const bump = (record: Record<string, number>, key: string) => (record[key] = (record[key] ?? 0) + 1);
    bump(this.stats.inputs, property);
    bump(this.stats.verdicts, judgement.verdict);
    bump(this.stats.statuses, String(observed.status));
    if (judgement.reasons.length > 0)
      bump(this.stats.reasons, judgement.reasons[0].replace(/\s\S*\d\S*/g, ' #').slice(0, 60));
  }

  /** Drops the violations that matching known bugs explain (each bug only its own kinds), counting the hits. */
  private excuseKnownBugs(req: WireRequest, observed: Observed, violations: Violation[]): Violation[] {
    if (violations.length === 0) return violations;
    const features = featuresOf(req, this.oracleWorld);
    const outcome = outcomeOf(observed);
    let rest = violations;
    for (const bug of KNOWN_BUGS.filter((known) => known.matches(features, outcome))) {
      const remaining = rest.filter((violation) => !bug.explains.includes(violation.kind));
      if (remaining.length < rest.length) this.stats.knownBugHits[bug.id] = (this.stats.knownBugHits[bug.id] ?? 0) + 1;
      rest = remaining;
    }
    return rest;
  }

  /** Keeps the owner map in step: new conversations from turns, deleted ones gone. */
  private learn(req: WireRequest, observed: Observed, judgement: Judgement, caller: string | undefined): void {
    if (caller === undefined || observed.status >= 300) return;
    if (judgement.route === 'chat' && observed.status === 200) {
      const { events, problem } = outcomeOf(observed);
      const started = events?.find((event) => event.event === 'turn.started')?.data ?? problem;
      const id = started?.conversation_id;
      if (typeof id === 'string') this.owners.set(id.toLowerCase(), caller);
    }
    if (judgement.route === 'conversation' && req.method.toUpperCase() === 'DELETE' && observed.status === 204) {
      const id = safeDecode(wireUrl(req.url).pathname.split('/')[4] ?? '');
      this.owners.delete(id.toLowerCase());
    }
  }

  // ------------------------------------------------------------ building requests

  private sign(sub: unknown, claims: Record<string, unknown> = {}, secret = this.jwtSecret): string {
    return jwt.sign({ sub, ...claims }, secret, { algorithm: 'HS256', expiresIn: '10m' });
  }

  private token(sub: string, shape: string): string {
    const now = Math.floor(Date.now() / 1000);
    const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
    switch (shape) {
      case 'expired':
        return jwt.sign({ sub, exp: now - 3600 }, this.jwtSecret);
      case 'not-yet-valid':
        return jwt.sign({ sub, nbf: now + 3600, exp: now + 7200 }, this.jwtSecret);
      case 'wrong-secret':
        return this.sign(sub, {}, 'another-secret-of-sufficient-length-0123456789');
      case 'alg-none':
        return `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ sub, exp: now + 300 })}.`;
      case 'no-exp':
        return jwt.sign({ sub }, this.jwtSecret);
      case 'sub-number':
        return this.sign(12345);
      case 'sub-empty':
        return this.sign('');
      case 'sub-too-long':
        return this.sign('u'.repeat(256));
      case 'garbage-signature':
        return `${this.sign(sub).split('.').slice(0, 2).join('.')}.${'A'.repeat(43)}`;
      default:
        return this.sign(sub);
    }
  }

  private userSegment(user: UserRef): string {
    if (user.kind === 'B') return encodeURIComponent(this.world.userB);
    if (user.kind === 'A') return encodeURIComponent(this.world.userA);
    return user.segment;
  }

  private async conversationSegment(ref: ConvRef, forDelete: boolean): Promise<string> {
    const { world } = this;
    switch (ref.kind) {
      case 'A':
        return world.aConversationIds[ref.index % world.aConversationIds.length];
      case 'segment':
        return ref.segment;
      default: {
        // A DELETE gets a conversation of its own, so B's pool (and its cursors) survive the fuzz.
        const id = forDelete
          ? await this.freshConversation()
          : world.bConversationIds[ref.index % world.bConversationIds.length];
        return ref.kind === 'B-upper' ? id.toUpperCase() : id;
      }
    }
  }

  private async freshConversation(): Promise<string> {
    const { id } = await insertConversation(this.t.dataSource, { userId: this.world.userB, title: 'to delete' });
    this.owners.set(id.toLowerCase(), this.world.userB);
    return id;
  }

  private queryValue(value: QueryValue, ownScope: string): string {
    switch (value.kind) {
      case 'text':
        return value.text;
      case 'cursor':
        return this.world.cursors[value.ref];
      case 'position': {
        const scope = value.scope === 'auto' ? ownScope : value.scope;
        return Buffer.from(JSON.stringify({ scope, ...value.position })).toString('base64url');
      }
    }
  }

  private body(spec: BodySpec, conversationId: string | undefined): string | Buffer {
    switch (spec.kind) {
      case 'json': {
        const value = spec.value;
        if (conversationId !== undefined && typeof value === 'object' && value !== null && !Array.isArray(value)) {
          return JSON.stringify({ ...value, conversation_id: conversationId });
        }
        return JSON.stringify(value) ?? '';
      }
      case 'raw':
        return spec.text;
      case 'bytes':
        return Buffer.from(spec.bytes);
      case 'huge':
        return `{"${spec.field}":"${JSON.stringify(spec.unit).slice(1, -1).repeat(spec.count)}"}`;
    }
  }

  private authHeader(spec: AuthSpec, pathUser: string | undefined): { header?: string; caller?: string } {
    if (spec.kind === 'none') return {};
    if (spec.kind === 'raw') return { header: spec.header };
    const { world } = this;
    let sub: string;
    if (spec.subject === 'B') sub = world.userB;
    else if (spec.subject === 'other') sub = `other-of-${world.userB}`;
    else if (spec.subject === 'path') sub = pathUser ?? world.userB;
    else sub = spec.subject.sub;
    if (sub === world.userA) sub = world.userB; // the fuzz never holds A's token
    const header = `${spec.scheme} ${this.token(sub, spec.shape)}${spec.suffix}`;
    return { header, caller: spec.shape === 'valid' ? sub : undefined };
  }

  async materialize(c: FuzzCase): Promise<{ req: WireRequest; caller?: string }> {
    const method = c.method;
    let path: string;
    let pathUser: string | undefined;
    let ownScope = 'conversations';
    let bodyConversation: string | undefined;
    if (c.path.kind === 'raw') path = c.path.path;
    else {
      const user = this.userSegment(c.path.user);
      try {
        pathUser = decodeURIComponent(user);
      } catch {
        pathUser = user;
      }
      const needsConversation = ['history', 'get', 'patch', 'delete'].includes(c.path.route);
      const conversation = needsConversation
        ? await this.conversationSegment(c.path.conversation, method.toUpperCase() === 'DELETE')
        : '';
      switch (c.path.route) {
        case 'chat':
          path = `/api/${user}/chat`;
          break;
        case 'history':
          path = `/api/${user}/chat/${conversation}/history`;
          ownScope = `history:${safeDecode(conversation)}`;
          break;
        case 'list':
          path = `/api/${user}/conversations`;
          break;
        case 'tools':
          path = `/api/${user}/tools`;
          break;
        case 'live':
        case 'ready':
          path = `/health/${c.path.route}`;
          break;
        default:
          path = `/api/${user}/conversations/${conversation}`;
      }
    }
    if (c.body?.kind === 'json' && c.body.conversation) {
      bodyConversation = await this.conversationSegment(c.body.conversation, false);
    }
    const query = [
      ...c.query.map(
        ([key, value]) => `${encodeURIComponentSafe(key)}=${encodeURIComponentSafe(this.queryValue(value, ownScope))}`,
      ),
      ...(c.rawQuery !== undefined ? [c.rawQuery] : []),
    ].join('&');
    const url = query.length > 0 ? `${path}?${query}` : path;

    const headers: Record<string, string> = {};
    const auth = this.authHeader(c.auth, pathUser);
    if (auth.header !== undefined) headers.authorization = auth.header;
    if (c.contentType !== undefined) headers['content-type'] = c.contentType;
    if (c.requestId !== undefined) headers['x-request-id'] = c.requestId;
    if (c.accept !== undefined) headers.accept = c.accept;
    if (c.idempotencyKey !== undefined) headers['idempotency-key'] = c.idempotencyKey;
    const payload = c.body ? this.body(c.body, bodyConversation) : undefined;
    return { req: { method, url, headers, payload }, caller: auth.caller };
  }
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

const clip = (text: string, length = 400) =>
  text.length > length ? `${text.slice(0, length)}… (${text.length} chars)` : text;

function report(req: WireRequest, observed: Observed, judgement: Judgement, violations: Violation[]): string {
  const payload = req.payload === undefined ? '(none)' : clip(JSON.stringify(req.payload.toString()));
  const headers = Object.fromEntries(Object.entries(req.headers).map(([key, value]) => [key, clip(value, 120)]));
  return [
    'The service broke a property:',
    ...violations.map((violation) => `  - [${violation.kind}] ${violation.message}`),
    `request: ${req.method} ${clip(req.url, 300)}`,
    `headers: ${JSON.stringify(headers)}`,
    `payload: ${payload}`,
    `oracle: ${judgement.verdict} (${judgement.route}) ${judgement.reasons.join('; ')}`,
    `response: ${observed.status} ${String(observed.headers['content-type'])} ${clip(observed.body)}`,
  ].join('\n');
}
