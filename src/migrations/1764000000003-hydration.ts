import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Columns hydration fills from the Open API: all nullable, so `ADD COLUMN` is the same on both
 * dialects. Exported for tests that compare what the events alone made.
 */
export const HYDRATED_COLUMNS: readonly (readonly [table: string, column: string, type: string])[] = [
  ...(
    [
      ['status', 'text'],
      ['accessRefused', 'boolean'],
      ['customerNumber', 'text'],
      ['homeStudioUpstreamId', 'bigint'],
      ['registeredAt', 'bigint'],
      ['firstName', 'text'],
      ['lastName', 'text'],
      ['dateOfBirth', 'text'],
      ['gender', 'text'],
      ['email', 'text'],
      ['phonePrivate', 'text'],
      ['phoneMobile', 'text'],
      ['addressStreet', 'text'],
      ['addressHouseNumber', 'text'],
      ['addressZipCode', 'text'],
      ['addressCity', 'text'],
      ['addressCountry', 'text'],
      ['preferredLanguage', 'text'],
      ['hydratedAt', 'bigint'],
      ['personalDataErasedAt', 'bigint'],
      ['communicationPreferencesHydratedAt', 'bigint'],
    ] as const
  ).map(([column, type]) => ['customers', column, type] as const),
  ...(
    [
      ['rateName', 'text'],
      ['contractStatus', 'text'],
      ['signedOn', 'text'],
      ['startDate', 'text'],
      ['endDate', 'text'],
      ['cancelled', 'boolean'],
      ['cancellationDate', 'text'],
      ['termValue', 'integer'],
      ['termUnit', 'text'],
      ['basePriceAmount', 'double precision'],
      ['basePriceCurrency', 'text'],
      ['currentPriceAmount', 'double precision'],
      ['currentPriceCurrency', 'text'],
      ['hydratedAt', 'bigint'],
    ] as const
  ).map(([column, type]) => ['contracts', column, type] as const),
  ...(['class_bookings', 'appointment_bookings'] as const).flatMap((table) =>
    (
      [
        ['bookingStatus', 'text'],
        ['participantStatus', 'text'],
        ['hydratedAt', 'bigint'],
      ] as const
    ).map(([column, type]) => [table, column, type] as const),
  ),
  ['class_bookings', 'classSlotStatus', 'text'],
  ...(
    [
      ['title', 'text'],
      ['startAt', 'bigint'],
      ['endAt', 'bigint'],
      ['appointmentStatus', 'text'],
    ] as const
  ).map(([column, type]) => ['appointment_bookings', column, type] as const),
  ...(
    [
      ['startAt', 'bigint'],
      ['endAt', 'bigint'],
      ['maxParticipants', 'integer'],
      ['bookedParticipants', 'integer'],
      ['waitingListParticipants', 'integer'],
      ['instructorNames', 'text'],
      ['locationId', 'bigint'],
      ['locationName', 'text'],
      ['hydratedAt', 'bigint'],
    ] as const
  ).map(([column, type]) => ['class_slots', column, type] as const),
  ...(
    [
      ['name', 'text'],
      ['model', 'text'],
      ['active', 'boolean'],
      ['hydratedAt', 'bigint'],
    ] as const
  ).map(([column, type]) => ['devices', column, type] as const),
  ...(
    [
      ['status', 'text'],
      ['collectionDate', 'text'],
      ['collectionType', 'text'],
      ['origin', 'text'],
      ['hydratedAt', 'bigint'],
    ] as const
  ).map(([column, type]) => ['debt_collection_runs', column, type] as const),
  ...(
    [
      ['fromDate', 'text'],
      ['toDate', 'text'],
      ['fileFormat', 'text'],
      ['exportFormat', 'text'],
      ['hydratedAt', 'bigint'],
    ] as const
  ).map(([column, type]) => ['tax_advisor_exports', column, type] as const),
];

/**
 * Hydration from the upstream Open API: the durable job queue (`hydration_jobs`) and the scanner's
 * cursor over the event log (`log_cursors`), the fields hydration fills on existing records, and two
 * record types no webhook announces (classes, communication preferences). The cursor starts at the
 * current end of the log: events stored before hydration existed are reconciliation's business, not
 * a flood of reads at the first start.
 */
export class Hydration1764000000003 implements MigrationInterface {
  name = 'Hydration1764000000003';

  async up(queryRunner: QueryRunner): Promise<void> {
    const postgres = queryRunner.connection.driver.options.type === 'postgres';
    const id = postgres ? `"id" SERIAL NOT NULL PRIMARY KEY` : `"id" integer PRIMARY KEY AUTOINCREMENT NOT NULL`;
    const varchar = postgres ? 'character varying' : 'varchar';
    for (const [table, column, type] of HYDRATED_COLUMNS) await queryRunner.query(`ALTER TABLE "${table}" ADD COLUMN "${column}" ${type}`);
    await queryRunner.query(
      `CREATE TABLE "classes" (${id}, "tenantId" integer NOT NULL, "studioId" integer NOT NULL, "classId" bigint NOT NULL, "title" text, "type" text, ` +
        `"durationMinutes" integer, "category" text, "bookable" boolean, "hydratedAt" bigint NOT NULL)`,
    );
    await queryRunner.query(`CREATE UNIQUE INDEX "classes_key" ON "classes" ("tenantId", "classId")`);
    await queryRunner.query(
      `CREATE TABLE "communication_preferences" (${id}, "tenantId" integer NOT NULL, "customerId" bigint NOT NULL, "position" integer NOT NULL, ` +
        `"category" text, "channelsJson" text NOT NULL)`,
    );
    await queryRunner.query(
      `CREATE UNIQUE INDEX "communication_preferences_customer" ON "communication_preferences" ("tenantId", "customerId", "position")`,
    );
    await queryRunner.query(
      `CREATE TABLE "hydration_jobs" (${id}, "tenantId" integer NOT NULL, "studioId" integer NOT NULL, "kind" ${varchar}(32) NOT NULL, ` +
        `"upstreamKey" ${varchar}(64) NOT NULL, "params" text, "state" ${varchar}(16) NOT NULL, "version" integer NOT NULL, "runVersion" integer, ` +
        `"attempts" integer NOT NULL, "dueAt" bigint NOT NULL, "leaseOwner" ${varchar}(64), "leaseUntil" bigint, "lastError" text, "note" text, ` +
        `"firstSeq" bigint NOT NULL, "lastSeq" bigint NOT NULL, "runs" integer NOT NULL, "createdAt" bigint NOT NULL, "updatedAt" bigint NOT NULL, "doneAt" bigint)`,
    );
    await queryRunner.query(`CREATE UNIQUE INDEX "hydration_jobs_key" ON "hydration_jobs" ("tenantId", "kind", "upstreamKey")`);
    await queryRunner.query(`CREATE INDEX "hydration_jobs_due" ON "hydration_jobs" ("state", "dueAt")`);
    await queryRunner.query(`CREATE INDEX "hydration_jobs_studio" ON "hydration_jobs" ("studioId", "state")`);
    await queryRunner.query(`CREATE TABLE "log_cursors" ("name" ${varchar}(32) NOT NULL PRIMARY KEY, "seq" bigint NOT NULL)`);
    await queryRunner.query(`INSERT INTO "log_cursors" ("name", "seq") SELECT 'hydration', COALESCE(MAX("seq"), 0) FROM "events"`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const table of ['log_cursors', 'hydration_jobs', 'communication_preferences', 'classes'])
      await queryRunner.query(`DROP TABLE "${table}"`);
    for (const [table, column] of [...HYDRATED_COLUMNS].reverse())
      await queryRunner.query(`ALTER TABLE "${table}" DROP COLUMN "${column}"`);
  }
}
