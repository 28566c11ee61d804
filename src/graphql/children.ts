import type { DataSource, EntityTarget, ObjectLiteral } from 'typeorm';
import { SqlReader, type SqlParams } from '../db/sql-reader.js';
import type { Scope } from './scope.js';

/** A list of child records under parent records, e.g. the visits of customers. */
export interface ChildrenQuery<T> {
  readonly entity: EntityTarget<T>;
  /** Columns naming the parent, e.g. `["tenantId", "customerId"]`. */
  readonly parentColumns: readonly string[];
  /** Order inside each parent's list, e.g. `r."checkinAt" DESC, r."id" DESC` (SQL; the child's table is `r`). */
  readonly orderSql: string;
  /** The child's studio column for the viewer's scope. */
  readonly studioColumn: string;
}

/**
 * `WITH parents AS (VALUES ...) ... FROM parents JOIN "table" r ON <parent columns match> AND <scope>`:
 * the parents drive the join, so each parent is one index lookup on the child's parent columns.
 * SQLite keeps the written join order for CROSS JOIN; without ANALYZE statistics it otherwise
 * picked an index on the tenant alone for `(tenantId, customerId) IN (VALUES ...)` and read every
 * contract of the tenant (bench/README.md). PostgreSQL plans the plain join well.
 */
function parentsJoin(
  reader: SqlReader,
  params: SqlParams,
  query: Pick<ChildrenQuery<unknown>, 'parentColumns' | 'studioColumn'>,
  table: string,
  parents: readonly (readonly number[])[],
  scope: Scope,
): { with: string; from: string } {
  const names = query.parentColumns.map((_, i) => `"p${i}"`);
  const values = parents.map((key) => `(${key.map((v) => params.int(v)).join(', ')})`).join(', ');
  const on = query.parentColumns.map((c, i) => `r."${c}" = parents.${names[i]}`).join(' AND ');
  return {
    with: `WITH parents (${names.join(', ')}) AS (VALUES ${values})`,
    from: `parents ${reader.dialect === 'sqlite' ? 'CROSS JOIN' : 'JOIN'} "${table}" r ON ${on}${scope.studioSql(params, `r."${query.studioColumn}"`)}`,
  };
}

const parentKey = (row: Record<string, unknown>, columns: readonly string[]) => columns.map((c) => String(row[c])).join(':');

/**
 * The first `first` children of many parents in one statement, whatever the number of parents: a
 * ROW_NUMBER() window per parent, every column of the child read straight into plain objects
 * (sql-reader.ts). Scoped by the viewer inside the statement.
 * `orderSql` names columns of the child's table under the alias `r`, e.g. `r."id" DESC`.
 */
export async function loadChildren<T extends ObjectLiteral>(
  dataSource: DataSource,
  query: ChildrenQuery<T>,
  parents: readonly (readonly number[])[],
  first: number,
  scope: Scope,
): Promise<T[][]> {
  if (parents.length === 0 || first === 0) return parents.map(() => []);
  const reader = SqlReader.of(dataSource);
  const shape = reader.shape(query.entity);
  const params = reader.params();
  const join = parentsJoin(reader, params, query, shape.table, parents, scope);
  const partition = query.parentColumns.map((c) => `r."${c}"`).join(', ');
  const rows = await reader.all<Record<string, unknown>>(
    `${join.with} SELECT * FROM (SELECT ${shape.select('r')}, ROW_NUMBER() OVER (PARTITION BY ${partition} ORDER BY ${query.orderSql}) AS "rn"
       FROM ${join.from}) ranked WHERE "rn" <= ${params.add(first)} ORDER BY ${query.parentColumns.map((c) => `"${c}"`).join(', ')}, "rn"`,
    params.values,
  );
  const byParent = new Map<string, T[]>();
  for (const row of rows) {
    const key = parentKey(row, query.parentColumns);
    const child = shape.map(row);
    const list = byParent.get(key);
    if (list) list.push(child);
    else byParent.set(key, [child]);
  }
  return parents.map((key) => byParent.get(key.join(':')) ?? []);
}

/** How many children each parent has (scoped like {@link loadChildren}), in one GROUP BY statement. */
export async function countChildren(
  dataSource: DataSource,
  query: Pick<ChildrenQuery<unknown>, 'entity' | 'parentColumns' | 'studioColumn'>,
  parents: readonly (readonly number[])[],
  scope: Scope,
): Promise<number[]> {
  if (parents.length === 0) return [];
  const reader = SqlReader.of(dataSource);
  const table = reader.shape(query.entity as EntityTarget<ObjectLiteral>).table;
  const params = reader.params();
  const join = parentsJoin(reader, params, query, table, parents, scope);
  const cols = query.parentColumns.map((c) => `r."${c}"`).join(', ');
  const rows = await reader.all<Record<string, unknown>>(
    `${join.with} SELECT ${query.parentColumns.map((c) => `r."${c}" AS "${c}"`).join(', ')}, COUNT(*) AS "n" FROM ${join.from} GROUP BY ${cols}`,
    params.values,
  );
  const counts = new Map(rows.map((row) => [parentKey(row, query.parentColumns), Number(row['n'])]));
  return parents.map((key) => counts.get(key.join(':')) ?? 0);
}
