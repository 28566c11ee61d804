import { In, type DataSource, type EntityTarget, type ObjectLiteral } from 'typeorm';
import type { Scope } from './scope.js';

export interface ChildrenQuery<T> {
  readonly entity: EntityTarget<T>;
  readonly table: string;
  /** Columns naming the parent, e.g. `["tenantId", "customerId"]`. */
  readonly parentColumns: readonly string[];
  /** Order inside each parent's list, e.g. `"checkinAt" DESC, "id" DESC` (SQL, quoted columns). */
  readonly orderSql: string;
  /** Same order in JS, for the rows loaded by id. */
  readonly compare: (a: T, b: T) => number;
  /** The child's studio column for the viewer's scope. */
  readonly studioColumn: string;
  readonly parentKey: (child: T) => string;
}

/**
 * The first `first` children of many parents in two statements, whatever the number of parents:
 * a ROW_NUMBER() window picks the ids, then the entities are loaded by id. Scoped by the viewer.
 */
export async function loadChildren<T extends ObjectLiteral & { id: number }>(
  dataSource: DataSource,
  query: ChildrenQuery<T>,
  parents: readonly (readonly number[])[],
  first: number,
  scope: Scope,
): Promise<T[][]> {
  if (parents.length === 0 || first === 0) return parents.map(() => []);
  const postgres = dataSource.options.type === 'postgres';
  const params: unknown[] = [];
  const p = (value: unknown) => {
    params.push(value);
    return postgres ? `$${params.length}` : '?';
  };
  const cols = query.parentColumns.map((c) => `"${c}"`).join(', ');
  const values = parents.map((key) => `(${key.map((v) => (postgres ? `CAST(${p(v)} AS BIGINT)` : p(v))).join(', ')})`).join(', ');
  const studio = scope.studioIds === null ? '' : scope.studioIds.length === 0 ? ' AND 1 = 0' : ` AND "${query.studioColumn}" IN (${scope.studioIds.map(p).join(', ')})`;
  const rows: { id: number | string }[] = await dataSource.query(
    `SELECT "id" FROM (SELECT "id", ROW_NUMBER() OVER (PARTITION BY ${cols} ORDER BY ${query.orderSql}) AS "rn"
       FROM "${query.table}" WHERE (${cols}) IN (VALUES ${values})${studio}) ranked WHERE "rn" <= ${p(first)}`,
    params,
  );
  const children = rows.length === 0 ? [] : await dataSource.getRepository(query.entity).findBy({ id: In(rows.map((r) => Number(r.id))) } as never);
  const byParent = new Map<string, T[]>();
  for (const child of children.sort(query.compare)) {
    const key = query.parentKey(child);
    const list = byParent.get(key);
    if (list) list.push(child);
    else byParent.set(key, [child]);
  }
  return parents.map((key) => byParent.get(key.join(':')) ?? []);
}
