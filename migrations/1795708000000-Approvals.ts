import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Approval before acting (SPEC §5.3): one row per tool call a paused turn waits on, the paused state on the
 * turn's assistant message, and the paused turn on its conversation (which takes no new message meanwhile).
 */
export class Approvals1795708000000 implements MigrationInterface {
  name = 'Approvals1795708000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "approvals" (
        "id" uuid NOT NULL,
        "user_id" text NOT NULL,
        "conversation_id" uuid NOT NULL,
        "turn_id" uuid NOT NULL,
        "tool_call_id" text NOT NULL,
        "tool" text NOT NULL,
        "server" text NOT NULL,
        "arguments" jsonb NOT NULL,
        "status" text NOT NULL,
        "reason" text,
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        "expires_at" TIMESTAMP WITH TIME ZONE NOT NULL,
        "decided_at" TIMESTAMP WITH TIME ZONE,
        CONSTRAINT "PK_approvals" PRIMARY KEY ("id"),
        CONSTRAINT "CHK_approvals_status" CHECK (status IN ('pending', 'approved', 'denied', 'expired')),
        CONSTRAINT "FK_approvals_conversation_id" FOREIGN KEY ("conversation_id")
          REFERENCES "conversations"("id") ON DELETE CASCADE
      )`,
    );
    await queryRunner.query(`CREATE INDEX "IDX_approvals_turn_id" ON "approvals" ("turn_id")`);
    // The expiry sweep reads only the approvals still waiting.
    await queryRunner.query(
      `CREATE INDEX "IDX_approvals_pending_expires_at" ON "approvals" ("expires_at") WHERE status = 'pending'`,
    );
    await queryRunner.query(`ALTER TABLE "messages" ADD "paused_turn" jsonb`);
    await queryRunner.query(`ALTER TABLE "conversations" ADD "awaiting_approval_turn_id" uuid`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "conversations" DROP COLUMN "awaiting_approval_turn_id"`);
    await queryRunner.query(`ALTER TABLE "messages" DROP COLUMN "paused_turn"`);
    await queryRunner.query(`DROP TABLE "approvals"`);
  }
}
