import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Columns that tie bookings to their customer and class slot. Booking webhooks carry only the
 * booking id, so these stay null until hydration from the Open API fills them; they are indexed for
 * the API's `customer.classBookings`, `customer.appointmentBookings` and `classSlot.bookings`.
 * `ADD COLUMN` of a nullable column is the same statement on both dialects.
 */
export class RecordRelations1764000000002 implements MigrationInterface {
  name = 'RecordRelations1764000000002';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "class_bookings" ADD COLUMN "customerId" bigint`);
    await queryRunner.query(`ALTER TABLE "class_bookings" ADD COLUMN "classSlotId" bigint`);
    await queryRunner.query(`ALTER TABLE "class_bookings" ADD COLUMN "classId" bigint`);
    await queryRunner.query(`ALTER TABLE "appointment_bookings" ADD COLUMN "customerId" bigint`);
    await queryRunner.query(`CREATE INDEX "class_bookings_customer" ON "class_bookings" ("tenantId", "customerId")`);
    await queryRunner.query(`CREATE INDEX "class_bookings_slot" ON "class_bookings" ("tenantId", "classSlotId")`);
    await queryRunner.query(`CREATE INDEX "appointment_bookings_customer" ON "appointment_bookings" ("tenantId", "customerId")`);
  }

  /** Indexes go first: SQLite refuses to drop an indexed column. */
  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "appointment_bookings_customer"`);
    await queryRunner.query(`DROP INDEX "class_bookings_slot"`);
    await queryRunner.query(`DROP INDEX "class_bookings_customer"`);
    await queryRunner.query(`ALTER TABLE "appointment_bookings" DROP COLUMN "customerId"`);
    await queryRunner.query(`ALTER TABLE "class_bookings" DROP COLUMN "classId"`);
    await queryRunner.query(`ALTER TABLE "class_bookings" DROP COLUMN "classSlotId"`);
    await queryRunner.query(`ALTER TABLE "class_bookings" DROP COLUMN "customerId"`);
  }
}
