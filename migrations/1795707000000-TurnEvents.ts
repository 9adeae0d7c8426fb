import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Durable turns (SPEC §5.2): each turn's events, kept while it runs and for a TTL after it, so any replica can
 * replay and follow it; the running turn and its cancel request on the conversation; the id of the turn's
 * last event on its user message, so a terminal event rebuilt after the TTL keeps the id the client saw.
 */
export class TurnEvents1795707000000 implements MigrationInterface {
  name = 'TurnEvents1795707000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "turn_events" (
        "turn_id" uuid NOT NULL,
        "seq" integer NOT NULL,
        "conversation_id" uuid NOT NULL,
        "user_id" text NOT NULL,
        "type" text NOT NULL,
        "data" json NOT NULL,
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        CONSTRAINT "PK_turn_events" PRIMARY KEY ("turn_id", "seq"),
        CONSTRAINT "CHK_turn_events_seq_positive" CHECK (seq > 0),
        CONSTRAINT "FK_turn_events_conversation_id" FOREIGN KEY ("conversation_id")
          REFERENCES "conversations"("id") ON DELETE CASCADE
      )`,
    );
    await queryRunner.query(`CREATE INDEX "IDX_turn_events_conversation_id" ON "turn_events" ("conversation_id")`);
    // The expiry sweep finds ended turns by their terminal event's age.
    await queryRunner.query(
      `CREATE INDEX "IDX_turn_events_terminal_created_at" ON "turn_events" ("created_at")
       WHERE type IN ('turn.completed', 'turn.failed')`,
    );
    await queryRunner.query(
      `ALTER TABLE "conversations"
        ADD "active_turn_id" uuid,
        ADD "active_turn_started_at" TIMESTAMP WITH TIME ZONE,
        ADD "cancel_requested_at" TIMESTAMP WITH TIME ZONE`,
    );
    await queryRunner.query(`ALTER TABLE "messages" ADD "last_event_id" integer`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "messages" DROP COLUMN "last_event_id"`);
    await queryRunner.query(
      `ALTER TABLE "conversations" DROP COLUMN "cancel_requested_at", DROP COLUMN "active_turn_started_at", DROP COLUMN "active_turn_id"`,
    );
    await queryRunner.query(`DROP TABLE "turn_events"`);
  }
}
