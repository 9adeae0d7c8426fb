import { Agent } from 'node:http';
import type { Pool } from 'pg';
import { isDeepStrictEqual } from 'node:util';
import {
  connectionCount,
  countTurnEventInserts,
  settledStats,
  turnEventInserts,
  turnEventRows,
} from '../lib/db-writes';
import type { Service } from '../lib/service';
import type { PaceSpec } from '../lib/simulator-protocol';
import { type EventStreamResult, openEventStream, type SseEvent } from '../lib/sse-client';
import type { Scenario } from '../lib/stack';
import { type BenchUser, benchUsers } from '../lib/tokens';
import { ms, num, ratio, spread } from '../lib/util';
import { CHAT_MESSAGE, safeRatio, streamRequest } from './common';

const VIEWERS = [1, 10, 100];
const TURNS_PER_LEVEL = 3;
/**
 * A long answer, slowly: 200 deltas 10 ms apart, after a first second in which every viewer attaches, so
 * that what the viewers get is delivered live, not replayed.
 */
const PACE: PaceSpec = { deltas: 200, firstDeltaMs: 1_000, intervalMs: 10 };
const LAG_BOUND_MS = 50;
/** Writes are batched in time, so their count moves a little from turn to turn; more viewers must not add. */
const WRITE_GROWTH_BOUND = 1.1;

type Writes = Awaited<ReturnType<typeof writes>>;

/** The database's cumulative writes once settled, and the INSERT statements into turn_events. */
async function writes(sql: Pool) {
  return { ...(await settledStats(sql)), turnEventInserts: await turnEventInserts(sql) };
}

interface Viewer {
  replica: 'A' | 'B';
  result: EventStreamResult;
}

interface WatchedTurn {
  turnId: string;
  post: EventStreamResult;
  viewers: Viewer[];
  connections: number;
}

/**
 * S8 fan-out: one turn runs on replica A (`POST …/chat`, streaming) while 1, 10 or 100 viewers follow it
 * through `GET …/turns/{turn_id}/events`, alternately on replica B and A (two services on one PostgreSQL
 * database). Every viewer must get the POST stream's events exactly: the same ids 1..n, in order, with the
 * same data. Delivery lag is a viewer's receipt of an event less the POST client's receipt of the same id.
 * The database's writes per turn are counted at each level: viewers must not add to them.
 */
export const s8FanOut: Scenario = {
  id: 'S8',
  title: 'fan-out: one running turn watched by 1 / 10 / 100 viewers on two replicas',
  plannedSeconds: () => (VIEWERS.length + 1) * (TURNS_PER_LEVEL * 4 + 12) + 20,
  async run(context, report) {
    if (context.db !== 'postgres') {
      report.notes.push('not run: two replicas share one database on PostgreSQL only');
      return;
    }
    const stack = await context.startStack({ tag: 's8', delayMs: 0, pace: PACE });
    const replicas: Record<Viewer['replica'], Service> = { A: stack.service, B: await stack.startReplica() };
    const [user] = benchUsers(stack.secret, 's8', 1);
    const sql = stack.sql();
    await countTurnEventInserts(sql);
    report.headers = [
      'viewers',
      'on A + B',
      'turns',
      'events/turn',
      'viewers exact',
      'lag p50 ms',
      'lag p99 ms',
      'lag max ms',
      'p99 on A ms',
      'p99 on B ms',
      'db connections',
      'turn_events INSERTs/turn',
      'turn_events rows/turn',
      'rows written/turn',
      'commits/turn',
    ];
    context.log(`S8 warm-up: ${TURNS_PER_LEVEL} turns, 10 viewers`);
    for (let i = 0; i < TURNS_PER_LEVEL; i++) await watchTurn(replicas, user, 10, sql);

    let exact = 0;
    let watched = 0;
    const mismatches: string[] = [];
    const perLevel: Record<number, { lagP99: number; inserts: number; rowsWritten: number }> = {};
    for (const viewers of VIEWERS) {
      context.log(`S8 ${viewers} viewers × ${TURNS_PER_LEVEL} turns`);
      const before = await writes(sql);
      const turns: WatchedTurn[] = [];
      for (let i = 0; i < TURNS_PER_LEVEL; i++) turns.push(await watchTurn(replicas, user, viewers, sql));
      const after = await writes(sql);
      const { exactViewers, lags } = judge(turns);
      for (const { replica, mismatch } of exactViewers.mismatches.slice(0, 3 - mismatches.length)) {
        mismatches.push(`${viewers} viewers, one on ${replica}: ${mismatch}`);
      }
      exact += exactViewers.count;
      watched += viewers * TURNS_PER_LEVEL;
      const lag = spread(lags.all);
      const eventRows =
        (await turnEventRows(
          sql,
          turns.map((turn) => turn.turnId),
        )) ?? Number.NaN;
      const perTurn = (key: keyof Writes): number => (after[key] - before[key]) / TURNS_PER_LEVEL;
      perLevel[viewers] = {
        lagP99: lag.p99,
        inserts: perTurn('turnEventInserts'),
        rowsWritten: perTurn('rowsWritten'),
      };
      report.rows.push([
        String(viewers),
        `${Math.floor(viewers / 2)} + ${Math.ceil(viewers / 2)}`,
        String(TURNS_PER_LEVEL),
        num(turns.reduce((sum, turn) => sum + turn.post.events.length, 0) / TURNS_PER_LEVEL),
        `${exactViewers.count}/${viewers * TURNS_PER_LEVEL}`,
        ms(lag.p50),
        ms(lag.p99),
        ms(lag.max),
        ms(spread(lags.A).p99),
        ms(spread(lags.B).p99),
        String(Math.max(...turns.map((turn) => turn.connections))),
        num(perTurn('turnEventInserts'), 1),
        num(eventRows / TURNS_PER_LEVEL, 1),
        num(perTurn('rowsWritten'), 1),
        num(perTurn('commits'), 1),
      ]);
      report.data[`viewers:${viewers}`] = { lag, lagA: spread(lags.A), lagB: spread(lags.B), before, after };
    }
    const [one, , top] = VIEWERS;
    report.verdicts.push(
      {
        name: 'S8 viewers that got every event once, in order, same data (share)',
        value: exact / watched,
        bound: 1,
        kind: 'min',
      },
      {
        name: `S8 delivery lag p99 at ${top} viewers (ms)`,
        value: perLevel[top].lagP99,
        bound: LAG_BOUND_MS,
        kind: 'max',
      },
      {
        name: `S8 turn_events INSERTs per turn, ${top} ÷ ${one} viewer`,
        value: safeRatio(perLevel[top].inserts, perLevel[one].inserts),
        bound: WRITE_GROWTH_BOUND,
        kind: 'max',
      },
      {
        name: `S8 rows written per turn, ${top} ÷ ${one} viewer`,
        value: safeRatio(perLevel[top].rowsWritten, perLevel[one].rowsWritten),
        bound: WRITE_GROWTH_BOUND,
        kind: 'max',
      },
    );
    for (const mismatch of mismatches) report.notes.push(`viewer mismatch: ${mismatch}`);
    report.notes.push(
      `the model streams ${PACE.deltas} deltas ${PACE.intervalMs} ms apart after ${PACE.firstDeltaMs} ms; viewers ` +
        'attach once the POST stream has turn.started, without Last-Event-ID (from the start); lag counts the events ' +
        'the POST client received after the viewer’s response headers (the rest is replay)',
      'turn_events INSERTs: a statement trigger’s count; rows written: tup_inserted + tup_updated + tup_deleted of ' +
        'pg_stat_database, read 11 s after each level (PostgreSQL publishes backend statistics when idle); commits ' +
        'include read-only transactions (a viewer’s replay) and the bench’s own readings',
      `db connections: pg_stat_activity on the database at the first text.delta (two replicas' pools, their ` +
        'listeners and the bench’s pool)',
      `ratio of ${top} to ${one} viewer: INSERTs ${ratio(safeRatio(perLevel[top].inserts, perLevel[one].inserts))}, ` +
        `rows ${ratio(safeRatio(perLevel[top].rowsWritten, perLevel[one].rowsWritten))}`,
    );
  },
};

/**
 * Which viewers got exactly the POST stream's events, and the delivery lag of each event they got live (the
 * POST client received it after the viewer's response headers; what came before is the viewer's replay).
 */
function judge(turns: WatchedTurn[]) {
  const lags: Record<'all' | Viewer['replica'], number[]> = { all: [], A: [], B: [] };
  const exactViewers = { count: 0, mismatches: [] as { replica: Viewer['replica']; mismatch: string }[] };
  for (const turn of turns) {
    const postEvents = turn.post.events;
    const problem = postStreamProblem(turn.post);
    if (problem) throw new Error(`S8 POST stream of turn ${turn.turnId}: ${problem}`);
    for (const { replica, result } of turn.viewers) {
      const mismatch = viewerMismatch(postEvents, result);
      if (mismatch) {
        exactViewers.mismatches.push({ replica, mismatch });
        continue;
      }
      exactViewers.count++;
      result.events.forEach((event, i) => {
        if (postEvents[i].at <= result.openedAt) return;
        lags.all.push(event.at - postEvents[i].at);
        lags[replica].push(event.at - postEvents[i].at);
      });
    }
  }
  return { exactViewers, lags };
}

/** Starts a turn on replica A and, once it has started, attaches `viewers` viewers (B, A, B, …). */
async function watchTurn(
  replicas: Record<Viewer['replica'], Service>,
  user: BenchUser,
  viewers: number,
  sql: Pool,
): Promise<WatchedTurn> {
  const agent = new Agent({ keepAlive: false, maxSockets: Infinity });
  const request = streamRequest(user, { message: CHAT_MESSAGE });
  let turnId = '';
  let attached: Promise<Viewer[]> | undefined;
  let connections: Promise<number> | undefined;
  try {
    const post = await openEventStream({
      url: replicas.A.url + request.path,
      method: 'POST',
      headers: request.headers,
      body: request.body,
      agent,
      onEvent: (event) => {
        if (event.event === 'turn.started' && !attached) {
          const data = JSON.parse(event.data) as { conversation_id: string; turn_id?: string; user_message_id: string };
          turnId = data.turn_id ?? data.user_message_id;
          const path = `/api/${encodeURIComponent(user.userId)}/chat/${data.conversation_id}/turns/${turnId}/events`;
          attached = Promise.all(
            Array.from({ length: viewers }, (_, i) => attach(i % 2 === 0 ? 'B' : 'A', replicas, path, user, agent)),
          );
        }
        if (event.event === 'text.delta') connections ??= connectionCount(sql);
      },
    });
    if (!attached) throw new Error(`S8: the POST stream had no turn.started (${post.status} ${post.body ?? ''})`);
    return { turnId, post, viewers: await attached, connections: (await connections) ?? Number.NaN };
  } finally {
    agent.destroy();
  }
}

/** One viewer's whole stream; a network failure is its result (status 0), judged with the others. */
async function attach(
  replica: Viewer['replica'],
  replicas: Record<Viewer['replica'], Service>,
  path: string,
  user: BenchUser,
  agent: Agent,
): Promise<Viewer> {
  const headers = { authorization: user.authorization, accept: 'text/event-stream' };
  try {
    return {
      replica,
      result: await openEventStream({ url: replicas[replica].url + path, method: 'GET', headers, agent }),
    };
  } catch (error) {
    return { replica, result: { status: 0, openedAt: Number.NaN, events: [], body: (error as Error).message } };
  }
}

/** What is wrong with the POST stream: not 200, ids not 1..n, not from turn.started to turn.completed. */
function postStreamProblem(post: EventStreamResult): string | undefined {
  if (post.status !== 200) return `status ${post.status}: ${post.body?.slice(0, 300)}`;
  const gap = post.events.findIndex((event, i) => event.id !== String(i + 1));
  if (gap >= 0) return `event ${gap + 1} has id ${post.events[gap].id}`;
  const [first, last] = [post.events[0], post.events.at(-1)];
  if (first?.event !== 'turn.started' || last?.event !== 'turn.completed') {
    return `it runs from ${first?.event} to ${last?.event}: ${last?.data.slice(0, 300)}`;
  }
  return undefined;
}

/** How a viewer's stream differs from the POST stream's events, or undefined when it is the same. */
function viewerMismatch(expected: SseEvent[], viewer: EventStreamResult): string | undefined {
  if (viewer.status !== 200) return `status ${viewer.status}: ${viewer.body?.slice(0, 300)}`;
  const differs = (i: number): boolean => {
    const [got, want] = [viewer.events[i], expected[i]];
    return got?.id !== want?.id || got?.event !== want?.event || !sameData(got.data, want.data);
  };
  const at = Array.from({ length: Math.max(expected.length, viewer.events.length) }, (_, i) => i).find(differs);
  if (at === undefined) return undefined;
  const show = (event: SseEvent | undefined): string => (event ? `${event.id} ${event.event}` : 'nothing');
  return (
    `${viewer.events.length} events against ${expected.length}; at #${at + 1} it got ${show(viewer.events[at])} ` +
    `where the POST stream had ${show(expected[at])}`
  );
}

/** The same JSON (key order aside: a replay from jsonb may reorder keys), or the same text. */
function sameData(a: string, b: string): boolean {
  try {
    return isDeepStrictEqual(JSON.parse(a), JSON.parse(b));
  } catch {
    return a === b;
  }
}
