import { encodeCursor } from '../../src/common/pagination/cursor';
import { assertClean, type LoadResult } from '../lib/load';
import { seedConversations } from '../lib/seed';
import type { Scenario } from '../lib/stack';
import { benchUsers } from '../lib/tokens';
import { httpGet, ratio } from '../lib/util';
import { getRequest, LOAD_HEADERS, loadCells, safeRatio } from './common';

const SIZES = [100, 10_000, 100_000];
const PAGE = 50;
const CONNECTIONS = 1;

type Page = 'first' | 'middle' | 'last';

/** The `before` position of each page: none (newest), the middle, and just after the 50 oldest. */
function beforeSeq(page: Page, size: number): number | undefined {
  if (page === 'first') return undefined;
  return page === 'middle' ? Math.floor(size / 2) : PAGE + 1;
}

/**
 * S4 history: conversations of 100, 10,000 and 100,000 messages (seeded in SQL); the first (newest),
 * middle and last (oldest) page of 50, one client. Keyset pagination should make them cost the same.
 */
export const s4History: Scenario = {
  id: 'S4',
  title: 'history pages: first, middle and last page of 100 / 10,000 / 100,000 messages',
  plannedSeconds: (o) => SIZES.length * 3 * (o.warmupS + o.durationS) + 30,
  async run(context, report) {
    const stack = await context.startStack({ tag: 's4', delayMs: 0 });
    const users = benchUsers(stack.secret, 's4', SIZES.length);
    const conversations: string[] = [];
    for (const [i, size] of SIZES.entries()) {
      const started = Date.now();
      const [seeded] = await seedConversations(stack.sql(), {
        userIds: [users[i].userId],
        messages: size,
        userChars: 120,
        assistantChars: 400,
      });
      conversations.push(seeded.id);
      context.log(`S4 seeded ${size} messages in ${Date.now() - started} ms`);
    }
    report.headers = ['messages', 'page', 'clients', ...LOAD_HEADERS, 'p50 vs first page'];
    const results: Record<string, LoadResult> = {};
    for (const [i, size] of SIZES.entries()) {
      for (const page of ['first', 'middle', 'last'] as const) {
        const seq = beforeSeq(page, size);
        const query = seq === undefined ? '' : `&before=${encodeCursor(`history:${conversations[i]}`, { seq })}`;
        const request = getRequest(users[i], `/chat/${conversations[i]}/history?limit=${PAGE}${query}`);
        const check = await httpGet(`${stack.service.url}${request.path}`, request.headers, 30_000);
        const messages = check?.status === 200 ? (JSON.parse(check.body) as { messages: unknown[] }).messages : [];
        const expected = Math.min(PAGE, (seq ?? size + 1) - 1);
        if (messages.length !== expected) {
          throw new Error(
            `S4 ${size} ${page}: expected ${expected} messages, got ${check?.status} ${check?.body.slice(0, 300)}`,
          );
        }
        context.log(`S4 ${size} ${page}`);
        const result = await context.measure({
          baseUrl: stack.service.url,
          connections: CONNECTIONS,
          request,
          monitor: stack.service.measured,
        });
        assertClean(`S4 ${size} ${page}`, result, stack.service.child);
        results[`${size}:${page}`] = result;
        report.rows.push([
          size.toLocaleString('en-US'),
          page,
          String(CONNECTIONS),
          ...loadCells(result),
          ratio(safeRatio(result.p50, results[`${size}:first`].p50)),
        ]);
      }
    }
    const largest = SIZES[SIZES.length - 1].toLocaleString('en-US');
    report.verdicts.push({
      name: `S4 last page p50 ÷ first page p50 at ${largest} messages`,
      value: safeRatio(results[`${SIZES[SIZES.length - 1]}:last`].p50, results[`${SIZES[SIZES.length - 1]}:first`].p50),
      bound: 1.5,
      kind: 'max',
    });
    report.data = { results };
  },
};
