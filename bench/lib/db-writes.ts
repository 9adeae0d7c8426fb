import type { Pool } from 'pg';
import { sleep } from './util';

/**
 * PostgreSQL 15 backends publish their statistics when they go idle, at most once a second, and an idle
 * backend with counts still pending publishes them 10 s later (PGSTAT_IDLE_INTERVAL): after this long,
 * pg_stat_database holds everything the service did before.
 */
const STATS_SETTLE_MS = 11_000;
const COUNTER = 'bench_turn_event_inserts';

/** What the database did, cumulative, per database (pg_stat_database). */
export interface DbStats {
  /** Rows inserted, updated and deleted. */
  rowsWritten: number;
  /** Transactions committed, reads included. */
  commits: number;
}

/**
 * Counts INSERT statements into turn_events with a statement-level trigger that advances a sequence: one
 * count per statement whatever its row count, and a sequence is not a row, so it adds nothing to the
 * rows-written figure. Fails clearly on a service without an event log.
 */
export async function countTurnEventInserts(pool: Pool): Promise<void> {
  if ((await turnEventRows(pool)) === undefined) {
    throw new Error('no turn_events table: this build of the service has no event log');
  }
  await pool.query(`CREATE SEQUENCE ${COUNTER}`);
  await pool.query(
    `CREATE FUNCTION ${COUNTER}() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN PERFORM nextval('${COUNTER}'); RETURN NULL; END $$`,
  );
  await pool.query(
    `CREATE TRIGGER ${COUNTER} AFTER INSERT ON turn_events FOR EACH STATEMENT EXECUTE FUNCTION ${COUNTER}()`,
  );
}

/** The counters once every backend has published what it did so far (waits STATS_SETTLE_MS). */
export async function settledStats(pool: Pool): Promise<DbStats> {
  await sleep(STATS_SETTLE_MS);
  const { rows } = await pool.query<{ commits: string; written: string }>(
    `SELECT xact_commit AS commits, tup_inserted + tup_updated + tup_deleted AS written
     FROM pg_stat_database WHERE datname = current_database()`,
  );
  return { rowsWritten: Number(rows[0].written), commits: Number(rows[0].commits) };
}

/** INSERT statements into turn_events since countTurnEventInserts (exact and immediate). */
export async function turnEventInserts(pool: Pool): Promise<number> {
  const { rows } = await pool.query<{ last_value: string; is_called: boolean }>(
    `SELECT last_value, is_called FROM ${COUNTER}`,
  );
  return rows[0].is_called ? Number(rows[0].last_value) : 0;
}

/** Rows in turn_events (of these turns), or undefined when the service has no event log. */
export async function turnEventRows(pool: Pool, turnIds?: string[]): Promise<number | undefined> {
  const { rows } = await pool.query<{ table: string | null }>(`SELECT to_regclass('turn_events')::text AS table`);
  if (!rows[0].table) return undefined;
  const counted = await pool.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM turn_events WHERE $1::uuid[] IS NULL OR turn_id = ANY($1::uuid[])`,
    [turnIds ?? null],
  );
  return counted.rows[0].n;
}

/** Connections open to the service's database, the bench's own included. */
export async function connectionCount(pool: Pool): Promise<number> {
  const { rows } = await pool.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database()`,
  );
  return rows[0].n;
}
