import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Per-studio check-in and check-out times of a customer, beside the per-studio first and last event
 * times `customer_studios` already keeps, so that a token sees a shared customer's latest check-in
 * at its own studios instead of the operator-wide one (customer-activity.ts). Backfilled from the
 * event log: the latest CUSTOMER_CHECKIN / CUSTOMER_CHECKOUT each studio delivered about each
 * customer. The same statements on both dialects.
 */
export class CustomerStudioPresence1764000000004 implements MigrationInterface {
  name = 'CustomerStudioPresence1764000000004';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "customer_studios" ADD COLUMN "lastCheckinAt" bigint`);
    await queryRunner.query(`ALTER TABLE "customer_studios" ADD COLUMN "lastCheckoutAt" bigint`);
    const latest = (type: string) =>
      `(SELECT MAX(e."occurredAt") FROM "events" e WHERE e."tenantId" = "customer_studios"."tenantId" AND e."entityId" = "customer_studios"."customerId"
          AND e."studioId" = "customer_studios"."studioId" AND e."type" = '${type}')`;
    await queryRunner.query(
      `UPDATE "customer_studios" SET "lastCheckinAt" = ${latest('CUSTOMER_CHECKIN')}, "lastCheckoutAt" = ${latest('CUSTOMER_CHECKOUT')}`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "customer_studios" DROP COLUMN "lastCheckoutAt"`);
    await queryRunner.query(`ALTER TABLE "customer_studios" DROP COLUMN "lastCheckinAt"`);
  }
}
