import type { ObjectLiteral, SelectQueryBuilder } from 'typeorm';
import type { SqlParams } from '../db/sql-reader.js';

let parameter = 0;

/**
 * The studios a viewer may see, as conditions added to a query — never a filter applied after
 * loading, so counts, pages and aggregates are scoped the same way as rows.
 */
export class Scope {
  constructor(
    /** Visible studio ids; null: every studio. */
    readonly studioIds: readonly number[] | null,
  ) {}

  get unrestricted(): boolean {
    return this.studioIds === null;
  }

  allows(studioId: number): boolean {
    return this.studioIds === null || this.studioIds.includes(studioId);
  }

  /** Keeps rows whose `column` (e.g. `visit."studioId"`) is a visible studio. */
  where<T extends ObjectLiteral>(qb: SelectQueryBuilder<T>, column: string): SelectQueryBuilder<T> {
    if (this.studioIds === null) return qb;
    if (this.studioIds.length === 0) return qb.andWhere('1 = 0');
    const name = `scope${++parameter}`;
    return qb.andWhere(`${column} IN (:...${name})`, { [name]: this.studioIds });
  }

  /**
   * Keeps customers linked to a visible studio (a studio that delivered an event about them),
   * for a query whose alias `alias` has `tenantId` and `customerId` columns.
   */
  whereCustomer<T extends ObjectLiteral>(qb: SelectQueryBuilder<T>, alias: string): SelectQueryBuilder<T> {
    if (this.studioIds === null) return qb;
    if (this.studioIds.length === 0) return qb.andWhere('1 = 0');
    const name = `scope${++parameter}`;
    return qb.andWhere(
      `EXISTS (SELECT 1 FROM customer_studios cs WHERE cs."tenantId" = ${alias}."tenantId" AND cs."customerId" = ${alias}."customerId" AND cs."studioId" IN (:...${name}))`,
      { [name]: this.studioIds },
    );
  }

  /** {@link where} as SQL for a raw statement: ` AND column IN (...)`, or '' for every studio. */
  studioSql(params: SqlParams, column: string): string {
    if (this.studioIds === null) return '';
    if (this.studioIds.length === 0) return ' AND 1 = 0';
    return ` AND ${column} IN ${params.list(this.studioIds)}`;
  }

  /** {@link whereCustomer} as SQL for a raw statement: ` AND EXISTS (...)`, or '' for every studio. */
  customerSql(params: SqlParams, alias: string): string {
    if (this.studioIds === null) return '';
    if (this.studioIds.length === 0) return ' AND 1 = 0';
    return ` AND EXISTS (SELECT 1 FROM customer_studios cs WHERE cs."tenantId" = ${alias}."tenantId" AND cs."customerId" = ${alias}."customerId" AND cs."studioId" IN ${params.list(this.studioIds)})`;
  }
}
