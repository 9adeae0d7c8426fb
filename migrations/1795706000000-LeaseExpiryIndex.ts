import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Each replica periodically marks the turns of expired leases interrupted; this partial index keeps
 * that sweep to the conversations with a lease (the running turns), not the whole table.
 */
export class LeaseExpiryIndex1795706000000 implements MigrationInterface {
  name = 'LeaseExpiryIndex1795706000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE INDEX "IDX_conversations_lease_expires_at" ON "conversations" ("lease_expires_at") WHERE lease_expires_at IS NOT NULL`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "IDX_conversations_lease_expires_at"`);
  }
}
