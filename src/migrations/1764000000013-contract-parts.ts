import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Columns shared by the two new record tables, after `id` (the same text on both dialects). */
const RECORD = `"tenantId" integer NOT NULL, "studioId" integer NOT NULL, "firstEventAt" bigint NOT NULL, "lastEventAt" bigint NOT NULL`;
const STATUS = `"status" varchar(16) NOT NULL, "statusAt" bigint NOT NULL, "createdAt" bigint, "updatedAt" bigint, "cancelledAt" bigint`;

const TABLES = {
  contract_idle_periods:
    `"idlePeriodId" bigint NOT NULL, "contractId" bigint NOT NULL, "customerId" bigint NOT NULL, ${STATUS}, ` +
    `"idlePeriodAmount" integer, "usedFreeTermsInDays" integer, "startDate" text, "endDate" text, "unlimited" boolean, "hydratedAt" bigint`,
  contract_additional_modules:
    `"moduleContractId" bigint NOT NULL, "contractId" bigint NOT NULL, "customerId" bigint NOT NULL, ${STATUS}, "deletedAt" bigint, ` +
    `"rateName" text, "contractStatus" text, "startDate" text, "endDate" text, "cancelled" boolean, "cancellationDate" text, ` +
    `"priceAmount" double precision, "priceCurrency" text, "hydratedAt" bigint`,
} as const;

const INDEXES = [
  ['contract_idle_periods_key', 'contract_idle_periods', ['tenantId', 'idlePeriodId'], true],
  ['contract_idle_periods_contract', 'contract_idle_periods', ['tenantId', 'contractId'], false],
  ['contract_additional_modules_key', 'contract_additional_modules', ['tenantId', 'moduleContractId'], true],
  ['contract_additional_modules_contract', 'contract_additional_modules', ['tenantId', 'contractId'], false],
] as const;

/**
 * The sister platform's contract types (CONTRACT_CANCELLED, CONTRACT_IDLE_PERIOD_*,
 * CONTRACT_ADDITIONAL_MODULE_*): when a contract was cancelled, and its pauses and add-on modules
 * as records under it. New tables and a nullable column: nothing to fill.
 */
export class ContractParts1764000000013 implements MigrationInterface {
  name = 'ContractParts1764000000013';

  async up(queryRunner: QueryRunner): Promise<void> {
    const postgres = queryRunner.connection.options.type === 'postgres';
    await queryRunner.query(`ALTER TABLE "contracts" ADD COLUMN "cancelledAt" bigint`);
    for (const [table, columns] of Object.entries(TABLES)) {
      const id = postgres ? `"id" SERIAL NOT NULL PRIMARY KEY` : `"id" integer PRIMARY KEY AUTOINCREMENT NOT NULL`;
      await queryRunner.query(`CREATE TABLE "${table}" (${id}, ${RECORD}, ${columns})`);
    }
    for (const [name, table, columns, unique] of INDEXES) {
      await queryRunner.query(
        `CREATE ${unique ? 'UNIQUE ' : ''}INDEX "${name}" ON "${table}" (${columns.map((c) => `"${c}"`).join(', ')})`,
      );
    }
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const table of Object.keys(TABLES).reverse()) await queryRunner.query(`DROP TABLE "${table}"`);
    await queryRunner.query(`ALTER TABLE "contracts" DROP COLUMN "cancelledAt"`);
  }
}
