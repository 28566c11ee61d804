import type { MigrationInterface, QueryRunner } from 'typeorm';
import { SEARCH_COLUMNS, searchColumns } from '../domains/customers/customer-search.js';

/** The search indexes: one per column, each made for `LIKE 'prefix%'` in its dialect. */
const SEARCH_INDEXES = [
  ['customers_search_name', 'searchName'],
  ['customers_search_last_name', 'searchLastName'],
  ['customers_search_email', 'searchEmail'],
  ['customers_search_number', 'searchNumber'],
] as const;

/**
 * - `automatic_checkouts`: the customers of each AUTOMATIC_CUSTOMER_CHECKOUT, one row each, which the
 *   visit pairing reads beside the customer's own check-ins and check-outs (visit.projector.ts).
 *   Nothing to fill: the type was stored but not applied before; events already logged stay as they
 *   were (the next check-in or check-out of those customers does not re-read them).
 * - `customers.search*`: lower-cased name, e-mail and customer number for prefix search
 *   (customer-search.ts), filled from the hydrated fields, with an index each that `LIKE 'prefix%'`
 *   uses: COLLATE NOCASE on SQLite (its LIKE optimisation requires it), text_pattern_ops on PostgreSQL
 *   (whatever the database's collation).
 * - `class_slots_start`, `visits_checkin`: class slots in the order of their start (the upcoming
 *   classes), visits in the order of their check-in (the `visits` connection across studios).
 */
export class ListsAndPresence1764000000010 implements MigrationInterface {
  name = 'ListsAndPresence1764000000010';

  async up(queryRunner: QueryRunner): Promise<void> {
    const postgres = queryRunner.connection.driver.options.type === 'postgres';
    await queryRunner.query(
      `CREATE TABLE "automatic_checkouts" ("seq" bigint NOT NULL, "position" integer NOT NULL, "tenantId" integer NOT NULL, "studioId" integer NOT NULL,
        "customerId" bigint NOT NULL, "checkoutAt" bigint NOT NULL, ${postgres ? 'CONSTRAINT "PK_744f6a169ca1c319b31a510f1bf" ' : ''}PRIMARY KEY ("seq", "position"))`,
    );
    await queryRunner.query(
      `CREATE INDEX "automatic_checkouts_customer" ON "automatic_checkouts" ("tenantId", "customerId", "checkoutAt")`,
    );
    for (const column of SEARCH_COLUMNS) await queryRunner.query(`ALTER TABLE "customers" ADD COLUMN "${column}" text`);

    const rows = (await queryRunner.query(
      `SELECT "id", "firstName", "lastName", "email", "customerNumber" FROM "customers"
        WHERE "firstName" IS NOT NULL OR "lastName" IS NOT NULL OR "email" IS NOT NULL OR "customerNumber" IS NOT NULL`,
    )) as { id: number; firstName: string | null; lastName: string | null; email: string | null; customerNumber: string | null }[];
    const p = (n: number) => (postgres ? `$${n}` : '?');
    for (const row of rows) {
      const values = searchColumns(row);
      await queryRunner.query(
        `UPDATE "customers" SET ${SEARCH_COLUMNS.map((c, i) => `"${c}" = ${p(i + 1)}`).join(', ')} WHERE "id" = ${p(SEARCH_COLUMNS.length + 1)}`,
        [...SEARCH_COLUMNS.map((c) => values[c]), row.id],
      );
    }
    // Class slots in the order of their start (upcoming classes); visits in the order of their check-in.
    await queryRunner.query(`CREATE INDEX "class_slots_start" ON "class_slots" ("startAt")`);
    await queryRunner.query(`CREATE INDEX "visits_checkin" ON "visits" ("checkinAt")`);
    for (const [index, column] of SEARCH_INDEXES) {
      await queryRunner.query(`CREATE INDEX "${index}" ON "customers" ("${column}" ${postgres ? 'text_pattern_ops' : 'COLLATE NOCASE'})`);
    }
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "visits_checkin"`);
    await queryRunner.query(`DROP INDEX "class_slots_start"`);
    for (const [index] of SEARCH_INDEXES) await queryRunner.query(`DROP INDEX "${index}"`);
    for (const column of SEARCH_COLUMNS) await queryRunner.query(`ALTER TABLE "customers" DROP COLUMN "${column}"`);
    await queryRunner.query(`DROP INDEX "automatic_checkouts_customer"`);
    await queryRunner.query(`DROP TABLE "automatic_checkouts"`);
  }
}
