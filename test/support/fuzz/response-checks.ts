import { parseSse, type ParsedEvent } from '../sse';
import type { Judgement, RequestFeatures, WireRequest } from './oracle';

export interface Observed {
  status: number;
  headers: Record<string, string | string[] | number | undefined>;
  body: string;
}

/**
 * What the client was told: the HTTP status and problem, or for an event stream (a streamed turn
 * answers 200 before it runs) the problem of its `error` event.
 */
export interface Outcome {
  status: number;
  problem?: Record<string, unknown>;
  /** The parsed events of an event stream. */
  events?: ParsedEvent[];
  /** No body to read the problem from (a HEAD request). */
  bodyless: boolean;
}

export type ViolationKind = 'status' | 'problem-shape' | 'request-id' | 'leak' | 'isolation';

export interface Violation {
  kind: ViolationKind;
  message: string;
}

export interface LeakGuard {
  /** Text only user A ever wrote (titles, messages): no response to anyone else may hold it. */
  secrets: string[];
  /** User A's user id, conversation and message ids: no 2xx to anyone else may hold them. */
  ids: string[];
  /** The simulated Anthropic API's base URL: a provider detail no client may see. */
  upstreamUrl: string;
}

const SANE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const PROBLEM_FIELDS = ['type', 'title', 'status', 'detail', 'instance', 'code', 'request_id'] as const;
/** A V8 stack frame: `at fn (file:line:col)` or `at file:line:col`. */
const STACK_FRAME = /\bat\s+(?:[^\s()]+\s+\([^()]*:\d+:\d+\)|\/[^\s:]+:\d+:\d+)/;
const INTERNAL_TEXT = [
  'QueryFailedError',
  'DatabaseError',
  'syntax error at or near',
  'duplicate key',
  'invalid input syntax',
  'out of range for type',
  'invalid byte sequence',
  'violates ',
  'node_modules',
  'TypeError',
  'RangeError',
  'Maximum call stack',
];

export const headerOf = (observed: Observed, name: string): string | undefined => {
  const value = observed.headers[name];
  return Array.isArray(value) ? value.join(', ') : value === undefined ? undefined : String(value);
};

const isEventStream = (observed: Observed) =>
  (headerOf(observed, 'content-type') ?? '').startsWith('text/event-stream');

function parseObject(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** Undefined events when the stream does not parse (reported as a violation by checkResponse). */
export function outcomeOf(observed: Observed): Outcome {
  if (observed.status < 300 && isEventStream(observed)) {
    let events: ParsedEvent[];
    try {
      events = parseSse(observed.body);
    } catch {
      return { status: observed.status, bodyless: false };
    }
    const error = events.find((event) => event.event === 'error');
    const status = typeof error?.data.status === 'number' ? error.data.status : observed.status;
    return { status, problem: error?.data, events, bodyless: false };
  }
  return { status: observed.status, problem: parseObject(observed.body), bodyless: observed.body.length === 0 };
}

function checkProblem(
  problem: Record<string, unknown> | undefined,
  status: number,
  requestId: string | undefined,
  fail: (kind: ViolationKind, message: string) => void,
): void {
  if (!problem) return fail('problem-shape', 'problem body is not a JSON object');
  for (const field of PROBLEM_FIELDS) {
    const expected = field === 'status' ? 'number' : 'string';
    if (typeof problem[field] !== expected) fail('problem-shape', `problem.${field} is not a ${expected}`);
  }
  if (problem.status !== status) fail('problem-shape', `problem.status ${String(problem.status)} ≠ ${status}`);
  if (typeof problem.code === 'string' && !/^[a-z][a-z0-9_]*$/.test(problem.code)) {
    fail('problem-shape', `problem.code ${problem.code} is not snake_case`);
  }
  if (problem.request_id !== requestId) fail('request-id', 'problem.request_id ≠ x-request-id header');
}

/** Everything wrong with one response, by kind, so a known bug can excuse exactly the kinds it explains. */
export function checkResponse(
  req: WireRequest,
  observed: Observed,
  judgement: Judgement,
  guard: LeakGuard,
): Violation[] {
  const found: Violation[] = [];
  const fail = (kind: ViolationKind, message: string) => found.push({ kind, message });
  const outcome = outcomeOf(observed);
  const { status } = outcome;
  const streamed = outcome.events !== undefined ? ' (in the event stream)' : '';
  const isHead = req.method.toUpperCase() === 'HEAD';
  const contentType = headerOf(observed, 'content-type') ?? '';

  if (status >= 500) fail('status', `${status}${streamed}: a server error for client input`);
  else if (status < 200 || (status >= 300 && status < 400)) fail('status', `unexpected status ${status}`);
  else if (judgement.verdict === 'valid' && status >= 400) fail('status', `${status}${streamed} for a valid request`);
  else if (judgement.verdict === 'invalid' && status < 400) fail('status', `${status} for an invalid request`);

  const requestId = headerOf(observed, 'x-request-id');
  if (requestId === undefined || !SANE_REQUEST_ID.test(requestId)) {
    fail('request-id', `x-request-id header ${JSON.stringify(requestId)}`);
  } else {
    const sent = req.headers['x-request-id'];
    if (sent !== undefined && SANE_REQUEST_ID.test(sent) && requestId !== sent) {
      fail('request-id', `a sane x-request-id ${sent} was replaced by ${requestId}`);
    }
    if (sent !== undefined && !SANE_REQUEST_ID.test(sent) && requestId === sent) {
      fail('request-id', 'an unsafe x-request-id was echoed');
    }
  }

  if (observed.status >= 400) {
    if (!contentType.startsWith('application/problem+json')) {
      fail('problem-shape', `an error as ${contentType || 'no content type'}`);
    } else if (!isHead) checkProblem(outcome.problem, status, requestId, fail);
  } else if (observed.status === 204 || isHead) {
    if (observed.body.length > 0) fail('problem-shape', `${observed.status} with a body`);
  } else if (outcome.events !== undefined) {
    if (!/text\/event-stream/.test(req.headers.accept ?? '')) fail('problem-shape', 'an event stream nobody asked for');
    const last = outcome.events.at(-1)?.event;
    if (last !== 'turn.completed' && last !== 'error') fail('problem-shape', `the stream ends with ${String(last)}`);
    const ids = outcome.events.map((event) => Number(event.id));
    if (ids.some((id, i) => !Number.isInteger(id) || (i > 0 && id <= ids[i - 1]))) {
      fail('problem-shape', `event ids not increasing: ${ids.join(',')}`);
    }
    if (outcome.problem) checkProblem(outcome.problem, status, requestId, fail);
  } else if (isEventStream(observed)) {
    fail('problem-shape', 'the event stream does not parse');
  } else if (contentType.startsWith('application/json')) {
    if (parseObject(observed.body) === undefined && !observed.body.startsWith('[')) {
      fail('problem-shape', '2xx body is not JSON');
    }
  } else fail('problem-shape', `2xx as ${contentType}`);

  if (STACK_FRAME.test(observed.body)) fail('leak', 'a stack frame in the body');
  for (const text of [...INTERNAL_TEXT, guard.upstreamUrl]) {
    if (observed.body.includes(text)) fail('leak', `the body holds ${JSON.stringify(text)}`);
  }
  for (const secret of guard.secrets) {
    if (observed.body.includes(secret)) fail('isolation', `another user's content ${secret} in the body`);
  }
  // The fuzz never holds A's token, so no 2xx it gets may name A's rows, whoever it claims to be.
  if (status < 300) {
    for (const id of guard.ids) {
      if (observed.body.includes(id)) fail('isolation', `another user's id ${id} in a ${status}`);
    }
  }
  return found;
}

/** A bug the fuzz has found and a dedicated failing test pins; the fuzz counts its hits instead of failing again. */
export interface KnownBug {
  id: string;
  /** The violation kinds this bug explains; any other violation still fails the property. */
  explains: ViolationKind[];
  matches(features: RequestFeatures, outcome: Outcome): boolean;
}

/**
 * Bugs the fuzz found that are not fixed yet, each pinned by a failing test in `bugs found by the fuzz`.
 * Empty: the eleven found so far are fixed, so any recurrence fails the properties again.
 */
export const KNOWN_BUGS: KnownBug[] = [];
