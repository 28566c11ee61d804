import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What the studio events (STUDIO_OPENING_HOURS_UPDATED, ADDITIONAL_INFORMATION_FIELDS_UPDATED) and
 * the studio-information read (`GET /v1/studios/information`) add to the studio record: the upstream
 * times of the latest change of each kind, the studio's upstream id, and the opening hours and
 * closures as JSON text. All nullable and not back-filled (nothing is known until an event or a
 * read), so `ADD COLUMN` is the same on both dialects.
 */
export const STUDIO_CHANGE_COLUMNS: readonly (readonly [column: string, type: string])[] = [
  ['upstreamStudioId', 'bigint'],
  ['openingHoursUpdatedAt', 'bigint'],
  ['additionalInformationFieldsUpdatedAt', 'bigint'],
  ['openingHoursJson', 'text'],
  ['closingHoursJson', 'text'],
  ['hydratedAt', 'bigint'],
];

export class StudioChanges1764000000015 implements MigrationInterface {
  name = 'StudioChanges1764000000015';

  async up(queryRunner: QueryRunner): Promise<void> {
    for (const [column, type] of STUDIO_CHANGE_COLUMNS) await queryRunner.query(`ALTER TABLE "studios" ADD COLUMN "${column}" ${type}`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const [column] of [...STUDIO_CHANGE_COLUMNS].reverse()) await queryRunner.query(`ALTER TABLE "studios" DROP COLUMN "${column}"`);
  }
}
