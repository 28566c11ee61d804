import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Indexes the visits by the seq of the event that closed them (`checkoutSeq`). The payload of a
 * check-out, and of an automatic check-out, is the visit that event closed, found by that seq; a
 * check-in's is found by its own seq (the visit's primary key), in the same statement
 * (`id = seq OR checkoutSeq = seq`). Without this index both databases answered that statement by
 * scanning every visit of the table, for every check-in and check-out delivered to a subscriber.
 */
export class VisitCheckoutIndex1764000000017 implements MigrationInterface {
  name = 'VisitCheckoutIndex1764000000017';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE INDEX "visits_checkout" ON "visits" ("checkoutSeq")`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "visits_checkout"`);
  }
}
