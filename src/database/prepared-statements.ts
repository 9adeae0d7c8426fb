import { Injectable, Logger } from '@nestjs/common';
import type { Pool, QueryResultRow } from 'pg';
import { DataSource, type EntityManager, type QueryRunner } from 'typeorm';
import { AppConfig } from '../config/app-config';

/** A hand-written statement; pg refuses one name for two texts, so each name is unique. */
export class PreparedStatement<Row extends QueryResultRow = QueryResultRow> {
  /** Type only: ties the statement to the rows it returns. */
  declare readonly row?: Row;

  constructor(
    readonly name: string,
    readonly text: string,
  ) {}
}

export interface StatementRunner {
  rows<Row extends QueryResultRow>(statement: PreparedStatement<Row>, values: unknown[]): Promise<Row[]>;
  rowCount(statement: PreparedStatement, values: unknown[]): Promise<number>;
}

interface Executed<Row> {
  rows: Row[];
  rowCount: number;
}

/** A named statement on a pooled session not its own: both fail at Parse/Bind, before anything runs. */
const SESSION_STATEMENT_SQLSTATES = new Set(['42P05', '26000']);

/**
 * Named prepared statements on PostgreSQL (≈ 90 µs less each); unnamed behind PgBouncer 1.18, which does not
 * track them, and on PGlite. See docs/architecture.md, "The database".
 */
@Injectable()
export class PreparedStatements implements StatementRunner {
  private readonly logger = new Logger(PreparedStatements.name);
  private named: boolean;

  constructor(
    private readonly dataSource: DataSource,
    config: AppConfig,
  ) {
    this.named = config.databaseUrl !== undefined && config.db.pooler === 'none';
  }

  async rows<Row extends QueryResultRow>(statement: PreparedStatement<Row>, values: unknown[]): Promise<Row[]> {
    return (await this.execute(statement, values)).rows;
  }

  async rowCount(statement: PreparedStatement, values: unknown[]): Promise<number> {
    return (await this.execute(statement, values)).rowCount;
  }

  /** Unnamed: a failed statement aborts the transaction, so it could not be retried. */
  inTransaction(manager: EntityManager): TransactionStatements {
    const { queryRunner } = manager;
    if (!queryRunner) throw new Error('PreparedStatements.inTransaction needs the EntityManager of a transaction');
    return new TransactionStatements(queryRunner);
  }

  private async execute<Row extends QueryResultRow>(
    statement: PreparedStatement<Row>,
    values: unknown[],
  ): Promise<Executed<Row>> {
    if (!this.named) return this.run(statement, values, undefined);
    try {
      return await this.run(statement, values, statement.name);
    } catch (error) {
      if (!SESSION_STATEMENT_SQLSTATES.has((error as { code?: unknown }).code as string)) throw error;
      if (this.named) {
        this.named = false;
        this.logger.warn(
          'Named prepared statements failed as behind a transaction-mode pooler: running them unnamed from now on ' +
            '(set DATABASE_POOLER=pgbouncer to start that way)',
        );
      }
      return this.run(statement, values, undefined);
    }
  }

  private async run<Row extends QueryResultRow>(
    statement: PreparedStatement<Row>,
    values: unknown[],
    name: string | undefined,
  ): Promise<Executed<Row>> {
    // TypeORM's PostgresDriver types its pg.Pool as `any`.
    const pool = (this.dataSource.driver as unknown as { master: Pool }).master;
    const result = await pool.query<Row>({ name, text: statement.text, values });
    return { rows: result.rows, rowCount: result.rowCount ?? 0 };
  }
}

/** Statements bound to one transaction's connection (a class, so the pool's runner cannot pass for it). */
export class TransactionStatements implements StatementRunner {
  constructor(private readonly queryRunner: QueryRunner) {}

  async rows<Row extends QueryResultRow>(statement: PreparedStatement<Row>, values: unknown[]): Promise<Row[]> {
    return (await this.queryRunner.query(statement.text, values, true)).records;
  }

  async rowCount(statement: PreparedStatement, values: unknown[]): Promise<number> {
    return (await this.queryRunner.query(statement.text, values, true)).affected ?? 0;
  }
}
