import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Customer-keyed event types: their entityId is a customer id. */
const CUSTOMER_KEYED = [
  'AGGREGATOR_MEMBER_CREATED',
  'CONTRACT_CREATED',
  'CONTRACT_UPDATED',
  'CUSTOMER_CHECKIN',
  'CUSTOMER_CHECKOUT',
  'CUSTOMER_COMMUNICATION_PREFERENCES_UPDATED',
  'CUSTOMER_CREATED',
  'CUSTOMER_DELETED',
  'CUSTOMER_UPDATED',
]
  .map((type) => `'${type}'`)
  .join(', ');

/**
 * API access: bearer tokens, and the customer-studio link that scopes customers to the studios
 * that delivered events about them (backfilled from the event log).
 */
export class ApiAccess1764000000001 implements MigrationInterface {
  name = 'ApiAccess1764000000001';

  async up(queryRunner: QueryRunner): Promise<void> {
    const postgres = queryRunner.connection.driver.options.type === 'postgres';
    const id = postgres ? `"id" SERIAL NOT NULL PRIMARY KEY` : `"id" integer PRIMARY KEY AUTOINCREMENT NOT NULL`;
    const text = postgres ? 'character varying' : 'varchar';
    await queryRunner.query(
      `CREATE TABLE "api_tokens" (${id}, "name" ${text}(200) NOT NULL, "role" ${text}(16) NOT NULL, "studioIds" text, "tokenHash" ${text}(64) NOT NULL, "createdAt" bigint NOT NULL, "revokedAt" bigint)`,
    );
    await queryRunner.query(`CREATE UNIQUE INDEX "api_tokens_hash" ON "api_tokens" ("tokenHash")`);
    await queryRunner.query(
      `CREATE TABLE "customer_studios" (${id}, "tenantId" integer NOT NULL, "customerId" bigint NOT NULL, "studioId" integer NOT NULL, "firstEventAt" bigint NOT NULL, "lastEventAt" bigint NOT NULL)`,
    );
    await queryRunner.query(`CREATE INDEX "customer_studios_studio" ON "customer_studios" ("studioId", "customerId")`);
    await queryRunner.query(`CREATE UNIQUE INDEX "customer_studios_key" ON "customer_studios" ("tenantId", "customerId", "studioId")`);
    await queryRunner.query(
      `INSERT INTO "customer_studios" ("tenantId", "customerId", "studioId", "firstEventAt", "lastEventAt")
       SELECT "tenantId", "entityId", "studioId", MIN("occurredAt"), MAX("occurredAt") FROM "events"
       WHERE "type" IN (${CUSTOMER_KEYED}) GROUP BY "tenantId", "entityId", "studioId"`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "customer_studios"`);
    await queryRunner.query(`DROP TABLE "api_tokens"`);
  }
}
