import type { MigrationInterface, QueryRunner } from 'typeorm';
import { rebuildVisitRollups } from '../domains/visits/visit-rollup.js';

const STAYS = Array.from({ length: 8 }, (_, i) => `"stay${i}" integer NOT NULL`).join(', ');
const COLUMNS =
  `"studioId" integer NOT NULL, "bucket" bigint NOT NULL, "tenantId" integer NOT NULL, "visits" integer NOT NULL, "closed" integer NOT NULL, ` +
  `"durationMs" bigint NOT NULL, "closedAway" integer NOT NULL, "durationAwayMs" bigint NOT NULL, ${STAYS}, PRIMARY KEY ("studioId", "bucket")`;

/**
 * `visit_rollups`: visits summed per studio and quarter hour of the check-in (visit-rollup.ts), filled
 * from the existing visits in the same migration; from then on the ingest keeps them. The same DDL
 * on both dialects (TypeORM's, checked by test/migrations.test.ts).
 */
export class VisitRollups1764000000009 implements MigrationInterface {
  name = 'VisitRollups1764000000009';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TABLE "visit_rollups" (${COLUMNS})`);
    await rebuildVisitRollups((sql) => queryRunner.query(sql));
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "visit_rollups"`);
  }
}
