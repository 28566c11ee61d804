import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Tokens managed through the API: an expiry, a note, a rotation time and permissions (a JSON array,
 * like `studioIds`). Existing tokens keep working exactly as before: none expires, and existing
 * partner tokens are granted `personalData`, which every token had until now (new partner tokens
 * have it only when asked for). App tokens read personal data by their role and get `[]`.
 */
export class TokenManagement1764000000007 implements MigrationInterface {
  name = 'TokenManagement1764000000007';

  async up(queryRunner: QueryRunner): Promise<void> {
    const postgres = queryRunner.connection.driver.options.type === 'postgres';
    const text = postgres ? 'character varying' : 'varchar';
    await queryRunner.query(`ALTER TABLE "api_tokens" ADD COLUMN "note" ${text}(1000)`);
    await queryRunner.query(`ALTER TABLE "api_tokens" ADD COLUMN "permissions" text`);
    await queryRunner.query(`ALTER TABLE "api_tokens" ADD COLUMN "expiresAt" bigint`);
    await queryRunner.query(`ALTER TABLE "api_tokens" ADD COLUMN "rotatedAt" bigint`);
    await queryRunner.query(`UPDATE "api_tokens" SET "permissions" = '["personalData"]' WHERE "role" = 'partner'`);
    await queryRunner.query(`UPDATE "api_tokens" SET "permissions" = '[]' WHERE "role" <> 'partner'`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const column of ['rotatedAt', 'expiresAt', 'permissions', 'note'])
      await queryRunner.query(`ALTER TABLE "api_tokens" DROP COLUMN "${column}"`);
  }
}
