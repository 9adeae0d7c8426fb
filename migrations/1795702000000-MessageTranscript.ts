import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * An assistant message keeps the Anthropic messages of its turn (text, tool_use and tool_result
 * blocks across rounds), so later turns give the model exactly what happened, not a summary.
 */
export class MessageTranscript1795702000000 implements MigrationInterface {
  name = 'MessageTranscript1795702000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "messages" ADD "transcript" jsonb`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "messages" DROP COLUMN "transcript"`);
  }
}
