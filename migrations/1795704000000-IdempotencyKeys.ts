import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Idempotency-Key records (SPEC §6): one per (user, key), purged after the retention period. */
export class IdempotencyKeys1795704000000 implements MigrationInterface {
  name = 'IdempotencyKeys1795704000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "idempotency_keys" (
        "user_id" text NOT NULL,
        "key" text NOT NULL,
        "fingerprint" text NOT NULL,
        "state" text NOT NULL DEFAULT 'in_flight',
        "response" text,
        "locked_until" timestamptz,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT "PK_idempotency_keys" PRIMARY KEY ("user_id", "key"),
        CONSTRAINT "CHK_idempotency_keys_state" CHECK (state IN ('in_flight', 'completed'))
      )`);
    // The purge deletes by age.
    await queryRunner.query(`CREATE INDEX "IDX_idempotency_keys_created_at" ON "idempotency_keys" ("created_at")`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "idempotency_keys"`);
  }
}
