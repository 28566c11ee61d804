import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `studios.timeZone`: the IANA zone the studio's local times are in (the dashboard shows "today" and
 * "this week" in it). Nullable and not back-filled: the webhooks carry no zone, so only the operator
 * can say (`npm run studio -- update <id> --time-zone …`); until then readers fall back to their own
 * zone. `ADD COLUMN` of a nullable column is the same on both dialects.
 */
export class StudioTimeZone1764000000006 implements MigrationInterface {
  name = 'StudioTimeZone1764000000006';

  async up(queryRunner: QueryRunner): Promise<void> {
    const postgres = queryRunner.connection.driver.options.type === 'postgres';
    await queryRunner.query(`ALTER TABLE "studios" ADD COLUMN "timeZone" ${postgres ? 'character varying' : 'varchar'}(64)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "studios" DROP COLUMN "timeZone"`);
  }
}
