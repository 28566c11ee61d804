import type { ObjectLiteral, SelectQueryBuilder } from 'typeorm';
import type { SqlParams } from '../db/sql-reader.js';
import { TABLES } from '../db/tables.js';

let parameter = 0;

/**
 * The studios (and, for a member, the customer) a viewer may see, as conditions added to a query — never a filter applied after
 * loading, so counts, pages and aggregates are scoped the same way as rows.
 */
export class Scope {
  constructor(
    /** Visible studio ids; null: every studio. */
    readonly studioIds: readonly number[] | null,
    /**
     * A member's upstream customer id: records that belong to a customer are then only theirs
     * (in the tenants of `studioIds`). Null for every other role.
     */
    readonly memberCustomerId: number | null = null,
  ) {}

  /** A member's scope: own records only, public studio data, nothing of other customers. */
  get member(): boolean {
    return this.memberCustomerId !== null;
  }

  /** Whether records of upstream customer `customerId` may be seen: always, except by a member (only their own). */
  ownsCustomer(customerId: number): boolean {
    return this.memberCustomerId === null || this.memberCustomerId === customerId;
  }

  /**
   * For a member: ` AND alias."customerId" = <own> AND alias."tenantId" = <the operator of their studios>`,
   * keeping the rows of a table with `tenantId` and `customerId` (customers, visits, contracts,
   * bookings, memberships) that are the member's own; '' for every other role. Inline integers (the
   * JWT's checked ids), so it fits raw statements, query builders and correlated subqueries alike.
   */
  ownerSql(alias: string): string {
    if (this.memberCustomerId === null) return '';
    const customer = inlineId(this.memberCustomerId);
    const studios = this.studioIds === null || this.studioIds.length === 0 ? 'NULL' : this.studioIds.map(inlineId).join(', ');
    // One operator only: an upstream customer id means nothing across operators, so a token naming
    // studios of two of them sees no customer record at all (the subqueries are not correlated: run once).
    return (
      ` AND ${alias}."customerId" = ${customer} AND ${alias}."tenantId" = (SELECT MIN(own_s."tenantId") FROM ${TABLES.studios} own_s WHERE own_s."id" IN (${studios}))` +
      ` AND (SELECT COUNT(DISTINCT own_t."tenantId") FROM ${TABLES.studios} own_t WHERE own_t."id" IN (${studios})) = 1`
    );
  }

  /** {@link ownerSql} on a query builder: a no-op except for members. */
  whereOwner<T extends ObjectLiteral>(qb: SelectQueryBuilder<T>, alias: string): SelectQueryBuilder<T> {
    const sql = this.ownerSql(alias);
    return sql === '' ? qb : qb.andWhere(sql.slice(' AND '.length));
  }

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
    this.whereOwner(qb, alias);
    if (this.studioIds === null) return qb;
    if (this.studioIds.length === 0) return qb.andWhere('1 = 0');
    const name = `scope${++parameter}`;
    return qb.andWhere(
      `EXISTS (SELECT 1 FROM ${TABLES.customer_studios} cs WHERE cs."tenantId" = ${alias}."tenantId" AND cs."customerId" = ${alias}."customerId" AND cs."studioId" IN (:...${name}))`,
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
    return `${this.ownerSql(alias)} AND EXISTS (SELECT 1 FROM ${TABLES.customer_studios} cs WHERE cs."tenantId" = ${alias}."tenantId" AND cs."customerId" = ${alias}."customerId" AND cs."studioId" IN ${params.list(this.studioIds)})`;
  }
}

/** An id we inline into SQL: a checked safe integer, never text. */
function inlineId(value: number): string {
  if (!Number.isSafeInteger(value)) throw new Error(`not an integer id: ${String(value)}`);
  return String(value);
}
