import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The records of the sister platform's finance types: `debt_collection_cases`
 * (FINANCE_DEBT_COLLECTION_CASE_UPDATED, one row per case, keyed by which id named it and that id)
 * and `debt_collection_configurations` (FINANCE_DEBT_COLLECTION_CONFIGURATION_UPDATED, one row per
 * studio, since the upstream does not say what the event's entityId is).
 */
export class DebtCollectionCases1764000000016 implements MigrationInterface {
  name = 'DebtCollectionCases1764000000016';

  async up(queryRunner: QueryRunner): Promise<void> {
    const postgres = queryRunner.connection.driver.options.type === 'postgres';
    const id = postgres ? `"id" SERIAL NOT NULL PRIMARY KEY` : `"id" integer PRIMARY KEY AUTOINCREMENT NOT NULL`;
    const varchar = postgres ? 'character varying' : 'varchar';
    await queryRunner.query(
      `CREATE TABLE "debt_collection_cases" (${id}, "tenantId" integer NOT NULL, "studioId" integer NOT NULL, "firstEventAt" bigint NOT NULL, ` +
        `"lastEventAt" bigint NOT NULL, "caseIdSource" ${varchar}(16) NOT NULL, "caseId" bigint NOT NULL, "agencyDebtCollectionCaseId" bigint, ` +
        `"collectionCaseId" bigint, "latestAdjustmentRequestId" bigint NOT NULL, "latestAdjustmentRequestAt" bigint NOT NULL)`,
    );
    await queryRunner.query(
      `CREATE UNIQUE INDEX "debt_collection_cases_key" ON "debt_collection_cases" ("tenantId", "caseIdSource", "caseId")`,
    );
    await queryRunner.query(`CREATE INDEX "debt_collection_cases_studio" ON "debt_collection_cases" ("studioId", "lastEventAt")`);
    await queryRunner.query(
      `CREATE TABLE "debt_collection_configurations" (${id}, "tenantId" integer NOT NULL, "studioId" integer NOT NULL, "firstEventAt" bigint NOT NULL, ` +
        `"lastEventAt" bigint NOT NULL, "latestEntityId" bigint NOT NULL)`,
    );
    await queryRunner.query(`CREATE UNIQUE INDEX "debt_collection_configurations_key" ON "debt_collection_configurations" ("studioId")`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const table of ['debt_collection_configurations', 'debt_collection_cases']) await queryRunner.query(`DROP TABLE "${table}"`);
  }
}
