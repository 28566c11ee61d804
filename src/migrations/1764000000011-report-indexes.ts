import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Indexes the reports read through (src/domains/reports/): a studio's members in customer order
 * (`membersReport.absentMembers` pages by it), contracts by creation time and cancellation date per studio (new
 * and cancelled contracts per period), a studio's class slots by start time (`classReport`,
 * `studioSummary.classesToday`) and its bookings by when they were made (`studioSummary.bookingsToday`).
 * Indexes only: nothing to fill. The same statements on both dialects.
 */
export class ReportIndexes1764000000011 implements MigrationInterface {
  name = 'ReportIndexes1764000000011';

  private readonly indexes = [
    ['contracts_member', 'contracts', ['studioId', 'tenantId', 'customerId']],
    ['contracts_created', 'contracts', ['studioId', 'createdAt']],
    ['contracts_cancellation', 'contracts', ['studioId', 'cancellationDate']],
    ['class_slots_studio_start', 'class_slots', ['studioId', 'startAt']],
    ['class_bookings_made', 'class_bookings', ['studioId', 'createdAt']],
    ['appointment_bookings_made', 'appointment_bookings', ['studioId', 'createdAt']],
  ] as const;

  async up(queryRunner: QueryRunner): Promise<void> {
    for (const [name, table, columns] of this.indexes) {
      await queryRunner.query(`CREATE INDEX "${name}" ON "${table}" (${columns.map((c) => `"${c}"`).join(', ')})`);
    }
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const [name] of [...this.indexes].reverse()) await queryRunner.query(`DROP INDEX "${name}"`);
  }
}
