import type { MigrationInterface, QueryRunner } from 'typeorm';

const COLUMNS =
  `"tenantId" integer NOT NULL, "studioId" integer NOT NULL, "firstEventAt" bigint NOT NULL, "lastEventAt" bigint NOT NULL, "employeeId" bigint NOT NULL, ` +
  `"createdAt" bigint, "updatedAt" bigint, "deletedAt" bigint, "firstName" text, "lastName" text, "employeeInitials" text, "gender" text, ` +
  `"email" text, "phoneNumber" text, "businessRole" text, "competencesJson" text, "hydratedAt" bigint, "personalDataErasedAt" bigint`;

/**
 * `employees`: staff records from EMPLOYEE_* (src/domains/employees/), hydrated from
 * `GET /v1/employees/{id}`. New and empty: nothing to fill. TypeORM's DDL for the entity, per dialect
 * only in how the id autoincrements (checked by test/migrations.test.ts).
 */
export class Employees1764000000014 implements MigrationInterface {
  name = 'Employees1764000000014';

  async up(queryRunner: QueryRunner): Promise<void> {
    const id =
      queryRunner.connection.driver.options.type === 'postgres'
        ? '"id" SERIAL NOT NULL'
        : '"id" integer PRIMARY KEY AUTOINCREMENT NOT NULL';
    const key = queryRunner.connection.driver.options.type === 'postgres' ? ', PRIMARY KEY ("id")' : '';
    await queryRunner.query(`CREATE TABLE "employees" (${id}, ${COLUMNS}${key})`);
    await queryRunner.query(`CREATE UNIQUE INDEX "employees_key" ON "employees" ("tenantId", "employeeId")`);
    await queryRunner.query(`CREATE INDEX "employees_studio" ON "employees" ("studioId", "id")`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "employees"`);
  }
}
