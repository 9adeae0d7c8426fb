import type { MigrationInterface, QueryRunner } from 'typeorm';

/** conversations and messages (SPEC §8). gen_random_uuid() is built in since PostgreSQL 13: no extension. */
export class InitialSchema1795700442727 implements MigrationInterface {
  name = 'InitialSchema1795700442727';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "conversations" (
        "id" uuid NOT NULL DEFAULT gen_random_uuid(),
        "user_id" text NOT NULL,
        "title" text,
        "message_count" integer NOT NULL DEFAULT 0,
        "lease_owner" text,
        "lease_expires_at" timestamptz,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        "updated_at" timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT "PK_conversations" PRIMARY KEY ("id")
      )`);
    // Serves "most recently active first" keyset pages: WHERE user_id = $1 AND (updated_at, id) < ($2, $3).
    await queryRunner.query(`
      CREATE INDEX "IDX_conversations_user_id_updated_at_id"
        ON "conversations" ("user_id", "updated_at" DESC, "id" DESC)`);
    await queryRunner.query(`
      CREATE TABLE "messages" (
        "id" uuid NOT NULL DEFAULT gen_random_uuid(),
        "conversation_id" uuid NOT NULL,
        "user_id" text NOT NULL,
        "seq" integer NOT NULL,
        "role" text NOT NULL,
        "content" text NOT NULL,
        "tool_calls" jsonb NOT NULL DEFAULT '[]',
        "status" text NOT NULL DEFAULT 'completed',
        "error_code" text,
        "model" text,
        "stop_reason" text,
        "usage" jsonb,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT "PK_messages" PRIMARY KEY ("id"),
        -- Also the index of the foreign key and of history keyset pages.
        CONSTRAINT "UQ_messages_conversation_id_seq" UNIQUE ("conversation_id", "seq"),
        CONSTRAINT "CHK_messages_role" CHECK (role IN ('user', 'assistant')),
        CONSTRAINT "CHK_messages_status" CHECK (status IN ('pending', 'completed', 'failed')),
        CONSTRAINT "CHK_messages_seq_positive" CHECK (seq > 0),
        CONSTRAINT "FK_messages_conversation_id" FOREIGN KEY ("conversation_id")
          REFERENCES "conversations" ("id") ON DELETE CASCADE
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "messages"`);
    await queryRunner.query(`DROP TABLE "conversations"`);
  }
}
