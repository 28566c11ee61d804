import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `events.digest`: the SHA-256 of each delivery's body, so a uuid reused with another body is told
 * apart from a re-delivery (409 instead of a silent drop). Existing rows keep NULL rather than being
 * back-filled: the ingestor rebuilds a missing digest from the rows of that uuid when the uuid comes
 * again (rare), which costs nothing at start-up on a large log and gives the same answer, since the
 * rows hold everything the digest covers. `ADD COLUMN` of a nullable column is the same on both dialects.
 */
export class DeliveryDigest1764000000005 implements MigrationInterface {
  name = 'DeliveryDigest1764000000005';

  async up(queryRunner: QueryRunner): Promise<void> {
    const postgres = queryRunner.connection.driver.options.type === 'postgres';
    await queryRunner.query(`ALTER TABLE "events" ADD COLUMN "digest" ${postgres ? 'character varying' : 'varchar'}(64)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "events" DROP COLUMN "digest"`);
  }
}
