import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { Test } from '@nestjs/testing';
import type { DatabaseError } from 'pg';
import { DataSource, QueryFailedError } from 'typeorm';
import { ALL_ENTITIES } from '../src/app.entities';
import { ConversationEntity } from '../src/chat/entities/conversation.entity';
import { MessageEntity } from '../src/chat/entities/message.entity';
import { loadConfig, type AppConfig } from '../src/config/app-config';
import { ConfigModule } from '../src/config/config.module';
import { DatabaseHealth } from '../src/database/database-health';
import { DatabaseModule } from '../src/database/database.module';
import { buildDataSourceOptions } from '../src/database/data-source-options';
import { startEmbeddedPostgres } from '../src/database/embedded-postgres';
import { prepareTestDatabase, type TestDatabase } from './support/test-database';

const onPostgres = Boolean(process.env.DATABASE_URL);
const itEmbedded = onPostgres ? it.skip : it;
// The embedded database serves the service through one connection (see data-source-options.ts), so
// isolation between pooled connections is a PostgreSQL property.
const itPostgres = onPostgres ? it : it.skip;

interface OpenDatabase {
  dataSource: DataSource;
  close(): Promise<void>;
}

function testConfig(env: Record<string, string>): AppConfig {
  return loadConfig({ NODE_ENV: 'test', JWT_SECRET: 'database-e2e-secret', ...env });
}

/** A DataSource on the test database, with no Nest around it; embedded when DATABASE_URL is unset. */
async function openDatabase(env: Record<string, string>): Promise<OpenDatabase> {
  const config = testConfig(env);
  if (config.databaseUrl) {
    const dataSource = await new DataSource(
      buildDataSourceOptions(config, config.databaseUrl, ALL_ENTITIES),
    ).initialize();
    return { dataSource, close: () => dataSource.destroy() };
  }
  const embedded = await startEmbeddedPostgres({ dataDir: config.dataDir, poolSize: config.db.poolSize });
  const dataSource = await new DataSource(buildDataSourceOptions(config, embedded.url, ALL_ENTITIES)).initialize();
  return {
    dataSource,
    close: async () => {
      await dataSource.destroy();
      await embedded.close();
    },
  };
}

/**
 * A migrated database no other test file sees, for tests that change the schema: a copy of the
 * template (embedded), or a database created for the test on the PostgreSQL server.
 */
async function openScratchDatabase(): Promise<OpenDatabase> {
  if (!onPostgres) {
    const copy = prepareTestDatabase();
    const database = await openDatabase(copy.env);
    return {
      dataSource: database.dataSource,
      close: async () => {
        await database.close();
        await copy.cleanup();
      },
    };
  }
  const name = `test_scratch_${randomUUID().replaceAll('-', '')}`;
  const scratchUrl = new URL(process.env.DATABASE_URL as string);
  scratchUrl.pathname = `/${name}`;
  const admin = await openDatabase({ DATABASE_URL: process.env.DATABASE_URL as string, DB_POOL_SIZE: '1' });
  await admin.dataSource.query(`CREATE DATABASE "${name}"`);
  const database = await openDatabase({ DATABASE_URL: scratchUrl.toString() });
  await database.dataSource.runMigrations({ transaction: 'each' });
  return {
    dataSource: database.dataSource,
    close: async () => {
      await database.close();
      await admin.dataSource.query(`DROP DATABASE "${name}" WITH (FORCE)`);
      await admin.close();
    },
  };
}

/** The SQL `migration:generate` would write: empty when the migrations build exactly the entities. */
async function pendingSchemaChanges(dataSource: DataSource): Promise<string[]> {
  const sql = await dataSource.driver.createSchemaBuilder().log();
  return sql.upQueries.map((query) => query.query);
}

function insertConversation(dataSource: DataSource, userId = `user-${randomUUID()}`): Promise<ConversationEntity> {
  const repository = dataSource.getRepository(ConversationEntity);
  return repository.save(repository.create({ userId }));
}

type MessageValues = Pick<MessageEntity, 'conversationId'> &
  Partial<Pick<MessageEntity, 'seq' | 'role' | 'status' | 'content'>>;

function insertMessage(dataSource: DataSource, values: MessageValues) {
  return dataSource
    .createQueryBuilder()
    .insert()
    .into(MessageEntity)
    .values({ userId: 'user-x', seq: 1, role: 'user', content: 'hello', ...values })
    .execute();
}

function countConversations(dataSource: DataSource, userId: string): Promise<number> {
  return dataSource.getRepository(ConversationEntity).countBy({ userId });
}

/** The database error behind a rejected query, for asserting its SQLSTATE and constraint. */
async function driverErrorOf(promise: Promise<unknown>): Promise<DatabaseError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(QueryFailedError);
  return (error as QueryFailedError<DatabaseError>).driverError;
}

describe(`database (${onPostgres ? 'PostgreSQL' : 'embedded PGlite'})`, () => {
  let testDatabase: TestDatabase;
  let database: OpenDatabase;
  let dataSource: DataSource;

  beforeAll(async () => {
    testDatabase = prepareTestDatabase();
    database = await openDatabase(testDatabase.env);
    dataSource = database.dataSource;
  });

  afterAll(async () => {
    await database?.close();
    await testDatabase?.cleanup();
  });

  describe('migrations', () => {
    it('leave no drift between the schema and the entities (migration:generate would write nothing)', async () => {
      expect(await dataSource.showMigrations()).toBe(false);
      expect(await pendingSchemaChanges(dataSource)).toEqual([]);
    });

    it('revert to an empty schema and run again to the same schema', async () => {
      const scratch = await openScratchDatabase();
      try {
        const { dataSource: scratchSource } = scratch;
        for (const _ of scratchSource.migrations) await scratchSource.undoLastMigration({ transaction: 'each' });
        const relations = await scratchSource.query<{ relname: string }[]>(
          `SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'i', 'S', 'v', 'm')
             AND c.oid NOT IN (SELECT indexrelid FROM pg_index WHERE indrelid = 'migrations'::regclass)
           ORDER BY c.relname`,
        );
        expect(relations.map((relation) => relation.relname)).toEqual(['migrations', 'migrations_id_seq']);

        const applied = await scratchSource.runMigrations({ transaction: 'each' });
        expect(applied.map((migration) => migration.name)).toEqual(
          scratchSource.migrations.map((migration) => migration.name),
        );
        expect(await pendingSchemaChanges(scratchSource)).toEqual([]);
      } finally {
        await scratch.close();
      }
    });
  });

  describe('constraints', () => {
    it('deletes the messages of a deleted conversation (ON DELETE CASCADE)', async () => {
      const conversation = await insertConversation(dataSource);
      await insertMessage(dataSource, { conversationId: conversation.id, seq: 1 });
      await insertMessage(dataSource, { conversationId: conversation.id, seq: 2, role: 'assistant' });

      await dataSource.getRepository(ConversationEntity).delete({ id: conversation.id });

      expect(await dataSource.getRepository(MessageEntity).countBy({ conversationId: conversation.id })).toBe(0);
    });

    it('rejects a message of a conversation that does not exist', async () => {
      const error = await driverErrorOf(insertMessage(dataSource, { conversationId: randomUUID() }));
      expect(error).toMatchObject({ code: '23503', constraint: 'FK_messages_conversation_id' });
    });

    it('rejects a role other than user or assistant', async () => {
      const conversation = await insertConversation(dataSource);
      const error = await driverErrorOf(
        insertMessage(dataSource, { conversationId: conversation.id, role: 'system' as MessageEntity['role'] }),
      );
      expect(error).toMatchObject({ code: '23514', constraint: 'CHK_messages_role' });
    });

    it('rejects a status other than pending, completed or failed', async () => {
      const conversation = await insertConversation(dataSource);
      const error = await driverErrorOf(
        insertMessage(dataSource, { conversationId: conversation.id, status: 'done' as MessageEntity['status'] }),
      );
      expect(error).toMatchObject({ code: '23514', constraint: 'CHK_messages_status' });
    });

    it('rejects a seq below 1', async () => {
      const conversation = await insertConversation(dataSource);
      const error = await driverErrorOf(insertMessage(dataSource, { conversationId: conversation.id, seq: 0 }));
      expect(error).toMatchObject({ code: '23514', constraint: 'CHK_messages_seq_positive' });
    });

    it('rejects a second message with the same seq in a conversation', async () => {
      const conversation = await insertConversation(dataSource);
      await insertMessage(dataSource, { conversationId: conversation.id, seq: 1 });
      const error = await driverErrorOf(insertMessage(dataSource, { conversationId: conversation.id, seq: 1 }));
      expect(error).toMatchObject({ code: '23505', constraint: 'UQ_messages_conversation_id_seq' });
    });

    it('fills ids, defaults and timestamps in the database', async () => {
      const conversation = await insertConversation(dataSource);
      await insertMessage(dataSource, { conversationId: conversation.id });
      const message = await dataSource
        .getRepository(MessageEntity)
        .findOneByOrFail({ conversationId: conversation.id });

      expect(conversation).toMatchObject({ title: null, messageCount: 0, leaseOwner: null, leaseExpiresAt: null });
      expect(conversation.createdAt).toBeInstanceOf(Date);
      expect(message).toMatchObject({ toolCalls: [], status: 'completed', errorCode: null, usage: null });
      expect(message.id).toMatch(/^[0-9a-f-]{36}$/);
    });
  });

  describe('pooled connections', () => {
    itPostgres('keep an uncommitted insert of one connection invisible to another', async () => {
      const userId = `user-${randomUUID()}`;
      const writer = dataSource.createQueryRunner();
      const reader = dataSource.createQueryRunner();
      try {
        await writer.startTransaction();
        await writer.query('INSERT INTO conversations (user_id) VALUES ($1)', [userId]);
        // On PGlite the reader waits for the writer's transaction to end; on PostgreSQL it reads at once.
        const seenByReader = reader.query('SELECT count(*)::int AS n FROM conversations WHERE user_id = $1', [userId]);
        await writer.rollbackTransaction();

        expect(await seenByReader).toEqual([{ n: 0 }]);
      } finally {
        await writer.release();
        await reader.release();
      }
    });

    itPostgres('keep the commit of one connection when another rolls back', async () => {
      const rolledBack = `user-${randomUUID()}`;
      const committed = `user-${randomUUID()}`;
      const first = dataSource.createQueryRunner();
      const second = dataSource.createQueryRunner();
      try {
        await first.startTransaction();
        await first.query('INSERT INTO conversations (user_id) VALUES ($1)', [rolledBack]);
        const secondCommits = (async () => {
          await second.startTransaction();
          await second.query('INSERT INTO conversations (user_id) VALUES ($1)', [committed]);
          await second.commitTransaction();
        })();
        await first.rollbackTransaction();
        await secondCommits;

        expect(await countConversations(dataSource, rolledBack)).toBe(0);
        expect(await countConversations(dataSource, committed)).toBe(1);
      } finally {
        await first.release();
        await second.release();
      }
    });
  });

  describe('embedded database', () => {
    itEmbedded('keeps its data across a restart on the same DATA_DIR', async () => {
      const copy = prepareTestDatabase();
      try {
        const before = await openDatabase(copy.env);
        const conversation = await insertConversation(before.dataSource);
        await before.close();

        const after = await openDatabase(copy.env);
        try {
          expect(await countConversations(after.dataSource, conversation.userId)).toBe(1);
        } finally {
          await after.close();
        }
      } finally {
        await copy.cleanup();
      }
    });

    itEmbedded('refuses a second instance on a DATA_DIR that is in use', async () => {
      await expect(openDatabase(testDatabase.env)).rejects.toThrow(/is in use by process/);
    });
  });

  describe(DatabaseModule.name, () => {
    it('boots on a migrated database and reports it ready', async () => {
      const target = prepareTestDatabase();
      try {
        const moduleRef = await Test.createTestingModule({
          imports: [ConfigModule.forRoot(testConfig(target.env)), DatabaseModule.forRoot({ entities: ALL_ENTITIES })],
        }).compile();
        try {
          expect(await moduleRef.get(DatabaseHealth).check()).toEqual({ database: 'up', pendingMigrations: 0 });
        } finally {
          await moduleRef.close();
        }
      } finally {
        await target.cleanup();
      }
    });

    itEmbedded('applies pending migrations at boot and closes PGlite only after the DataSource', async () => {
      const copy = prepareTestDatabase();
      try {
        const setup = await openDatabase(copy.env);
        await setup.dataSource.undoLastMigration({ transaction: 'each' });
        await setup.close();

        const moduleRef = await Test.createTestingModule({
          imports: [ConfigModule.forRoot(testConfig(copy.env)), DatabaseModule.forRoot({ entities: ALL_ENTITIES })],
        }).compile();
        expect(await moduleRef.get(DatabaseHealth).check()).toEqual({ database: 'up', pendingMigrations: 0 });

        const events: string[] = [];
        const realDestroy = DataSource.prototype.destroy;
        const destroy = jest.spyOn(DataSource.prototype, 'destroy').mockImplementation(async function (
          this: DataSource,
        ) {
          events.push('destroy DataSource');
          await realDestroy.call(this);
          events.push('DataSource destroyed');
        });
        const realClose = PGlite.prototype.close;
        const close = jest.spyOn(PGlite.prototype, 'close').mockImplementation(function (this: PGlite) {
          events.push('close PGlite');
          return realClose.call(this);
        });
        try {
          await moduleRef.close();
        } finally {
          destroy.mockRestore();
          close.mockRestore();
        }

        expect(events).toEqual(['destroy DataSource', 'DataSource destroyed', 'close PGlite']);
        expect(existsSync(join(copy.env.DATA_DIR, 'pgdata.lock'))).toBe(false);
      } finally {
        await copy.cleanup();
      }
    });
  });

  describe(DatabaseHealth.name, () => {
    it('reports the migrations the database lacks', async () => {
      const scratch = await openScratchDatabase();
      try {
        await scratch.dataSource.undoLastMigration({ transaction: 'each' });
        expect(await new DatabaseHealth(scratch.dataSource).check()).toEqual({ database: 'up', pendingMigrations: 1 });
      } finally {
        await scratch.close();
      }
    });

    it('reports the database down when it does not answer in time', async () => {
      const scratch = await openScratchDatabase();
      const blocker = scratch.dataSource.createQueryRunner();
      try {
        await blocker.startTransaction();
        await blocker.query('LOCK TABLE migrations IN ACCESS EXCLUSIVE MODE');
        const startedAt = Date.now();

        expect(await new DatabaseHealth(scratch.dataSource).check()).toEqual({
          database: 'down',
          pendingMigrations: null,
        });
        expect(Date.now() - startedAt).toBeLessThan(5_000);
      } finally {
        await blocker.rollbackTransaction();
        await blocker.release();
        await scratch.close();
      }
    });
  });
});
