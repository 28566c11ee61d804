import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The columns the sister platform's CUSTOMER_* events fill (customer.projector.ts), with their types. */
const COLUMNS = [
  ['accessDisabledAt', 'bigint'],
  ['homeStudioUpdatedAt', 'bigint'],
  ['homeStudioOrder', 'text'],
  ['previousHomeStudioUpstreamId', 'bigint'],
  ['checkinStudiosUpdatedAt', 'bigint'],
  ['checkinStudiosOrder', 'text'],
  ['checkinStudiosContractId', 'bigint'],
  ['lastAccessMediumCreatedAt', 'bigint'],
  ['lastAccessMediumUpdatedAt', 'bigint'],
  ['lastAccessMediumDeletedAt', 'bigint'],
  ['lastAccessRestrictionCreatedAt', 'bigint'],
  ['lastAccessRestrictionDeletedAt', 'bigint'],
] as const;

/**
 * `customers`: access disabled, home-studio moves, check-in studios, access media and access
 * restrictions (CUSTOMER_ACCESS_DISABLED, CUSTOMER_HOME_STUDIO_UPDATED, CUSTOMER_CHECKIN_STUDIOS_UPDATED,
 * CUSTOMER_ACCESS_MEDIUM_*, CUSTOMER_ACCESS_RESTRICTION_*). All nullable, nothing to fill: those types
 * were stored as unknown before, and events already logged stay as they were.
 */
export class CustomerAccess1764000000012 implements MigrationInterface {
  name = 'CustomerAccess1764000000012';

  async up(queryRunner: QueryRunner): Promise<void> {
    for (const [column, type] of COLUMNS) await queryRunner.query(`ALTER TABLE "customers" ADD COLUMN "${column}" ${type}`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const [column] of [...COLUMNS].reverse()) await queryRunner.query(`ALTER TABLE "customers" DROP COLUMN "${column}"`);
  }
}
