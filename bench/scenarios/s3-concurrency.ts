import { assertClean, type GeneratedRequest, type LoadResult } from '../lib/load';
import { seedConversations } from '../lib/seed';
import type { Scenario } from '../lib/stack';
import { targetOf } from '../lib/stack';
import { benchUsers } from '../lib/tokens';
import { ms, num, ratio } from '../lib/util';
import { CHAT_MESSAGE, chatRequest, safeRatio } from './common';

const CLIENTS = 200;
const MODEL_DELAY_MS = 1_000;
/** Little's law: 200 turns in flight, each held 1 s by the model → at most 200 turns/s. */
const IDEAL_RPS = CLIENTS / (MODEL_DELAY_MS / 1000);
const MIN_WARMUP_S = 3;
/** A 1 s turn needs several cycles per run for a steady state. */
const MIN_DURATION_S = 8;

/**
 * S3 concurrency: the model takes 1 s; 200 clients, each its own user and its own conversation (so no
 * turn waits for another's lease). Throughput against the ideal 200 turns/s and the overhead p99
 * (latency p99 − 1 s) show whether the service keeps 200 turns in flight.
 */
export const s3Concurrency: Scenario = {
  id: 'S3',
  title: 'concurrency: model delay 1 s, 200 clients on their own conversations',
  plannedSeconds: (o) => 2 * (Math.max(MIN_WARMUP_S, o.warmupS) + Math.max(MIN_DURATION_S, o.durationS) + 4),
  async run(context, report) {
    const stack = await context.startStack({ tag: 's3', delayMs: MODEL_DELAY_MS, baseline: true });
    const users = benchUsers(stack.secret, 's3', CLIENTS);
    const conversations = await seedConversations(stack.sql(), { userIds: users.map((u) => u.userId), messages: 0 });
    const byUser = new Map(users.map((user) => [user.userId, user]));
    const slots = conversations.map((c) => ({ user: byUser.get(c.userId)!, conversationId: c.id }));

    // A conversation is handed to one request at a time and comes back with its response.
    let free = [...slots];
    let collisions = 0;
    const next = (): GeneratedRequest => {
      const slot = free.pop() ?? (collisions++, slots[Math.floor(Math.random() * slots.length)]);
      return {
        ...chatRequest(slot.user, { message: CHAT_MESSAGE, conversation_id: slot.conversationId }),
        release: () => free.push(slot),
      };
    };

    report.headers = [
      'target',
      'clients',
      'turns/s (N÷mean)',
      'counted turns/s',
      'ideal',
      'of ideal',
      'p50 ms',
      'p99 ms',
      'overhead p99 ms',
      'peak RSS MB',
    ];
    const results: Record<string, LoadResult> = {};
    for (const target of ['baseline', 'service'] as const) {
      const { url, measured } = targetOf(stack, target);
      context.log(`S3 ${target} × ${CLIENTS}`);
      const result = await context.measure({
        baseUrl: url,
        connections: CLIENTS,
        durationS: Math.max(MIN_DURATION_S, context.options.durationS),
        warmupS: Math.max(MIN_WARMUP_S, context.options.warmupS),
        request: next,
        monitor: measured,
        beforeRun: () => {
          free = [...slots];
        },
      });
      assertClean(`S3 ${target}`, result, targetOf(stack, target).child);
      results[target] = result;
      report.rows.push([
        target,
        String(CLIENTS),
        num(littleRps(result), 1),
        num(result.rps, 1),
        String(IDEAL_RPS),
        ratio(littleRps(result) / IDEAL_RPS),
        ms(result.p50),
        ms(result.p99),
        ms(result.p99 - MODEL_DELAY_MS),
        num((result.peakRss ?? Number.NaN) / 1024 / 1024),
      ]);
    }
    if (collisions > 0) report.notes.push(`${collisions} requests found no free conversation and shared one`);
    report.notes.push(
      `measured over ${Math.max(MIN_DURATION_S, context.options.durationS)} s (at least ${MIN_DURATION_S} s). ` +
        `turns/s (N÷mean) is Little's law for a closed loop of ${CLIENTS} always-busy clients: throughput = ` +
        `clients ÷ mean latency. The counted figure (2xx ÷ run time) is biased low by the first second of each ` +
        `run, in which no 1 s turn can finish: ≈ (duration − 1) ÷ duration of the steady rate.`,
    );
    report.verdicts.push({
      name: 'S3 service turns/s ÷ ideal 200',
      value: littleRps(results.service) / IDEAL_RPS,
      bound: 0.9,
      kind: 'min',
    });
    report.data = { results, collisions, baselineOfIdeal: safeRatio(littleRps(results.baseline), IDEAL_RPS) };
  },
};

/** Little's law in a closed loop: every client always has one request in flight. */
function littleRps(result: LoadResult): number {
  return (result.connections * 1000) / result.mean;
}
