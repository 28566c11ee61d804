import type DataLoader from 'dataloader';
import {
  GraphQLIncludeDirective,
  GraphQLSkipDirective,
  Kind,
  getArgumentValues,
  getDirectiveValues,
  getNamedType,
  isObjectType,
  type FieldNode,
  type FragmentSpreadNode,
  type GraphQLResolveInfo,
  type InlineFragmentNode,
  type SelectionSetNode,
} from 'graphql';
import type { DataSource, EntityTarget, ObjectLiteral } from 'typeorm';
import { SqlReader, type SqlParams } from '../db/sql-reader.js';
import type { GraphQLContext } from './context.js';
import { MAX_PAGE_SIZE } from './pagination.js';
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

// ---------------------------------------------------------------------------------------------
// Nested lists read inside their parent's statement

/** An integer we inline into SQL (our own ids and checked sizes; never user text). */
function inlineInt(value: number): string {
  if (!Number.isSafeInteger(value)) throw new Error(`not an integer: ${String(value)}`);
  return String(value);
}

/**
 * One nested field's values read inside the parent's statement: `sql(parent)` is a scalar
 * subquery correlated to the parent row (alias `parent`); `prime` hands its value for one parent
 * to the DataLoader the field resolver reads from, so the field runs no statement of its own.
 */
export interface Prefetch {
  /** The DataLoader it fills (also what makes two selections of the same field and arguments one). */
  readonly loader: string;
  sql(reader: SqlReader, parent: string, scope: Scope): string;
  prime(context: GraphQLContext, parent: ObjectLiteral, value: unknown): void;
}

/** The parent's columns that the child's {@link ChildrenQuery.parentColumns} refer to, in the same order. */
export type ParentColumns = readonly string[];

function correlation(query: Pick<ChildrenQuery<unknown>, 'parentColumns' | 'studioColumn'>, parentColumns: ParentColumns, parent: string, scope: Scope): string {
  const on = query.parentColumns.map((c, i) => `r."${c}" = ${parent}."${parentColumns[i]}"`).join(' AND ');
  const studios = scope.studioIds;
  const visible = studios === null ? '' : studios.length === 0 ? ' AND 1 = 0' : ` AND r."${query.studioColumn}" IN (${studios.map(inlineInt).join(', ')})`;
  return `${on}${visible}`;
}

/**
 * A to-many field of a parent type (e.g. `Customer.visits`): loaded in batches per request
 * ({@link loadChildren}), or — when the parent's resolver sees it selected — inside the parent's
 * statement as a JSON array ({@link prefetch}). Both give the same rows in the same order.
 */
export class ChildList<T extends ObjectLiteral> {
  constructor(
    /** Names the DataLoader, e.g. `visitsOfCustomer`. */
    readonly name: string,
    readonly query: ChildrenQuery<T>,
    /** The parent's columns (= properties) matching `query.parentColumns`. */
    readonly parentColumns: ParentColumns,
  ) {}

  private loader(context: GraphQLContext, first: number): DataLoader<readonly number[], T[]> {
    return context.loaders.get<readonly number[], T[]>(`${this.name}:${first}`,
      (keys) => loadChildren(context.dataSource, this.query, keys, first, context.scope), (key) => key.join(':'));
  }

  /** The first `first` children of `parent` (batched with the other parents of the request). */
  load(context: GraphQLContext, parent: ObjectLiteral, first: number): Promise<T[]> {
    return this.loader(context, first).load(this.parentColumns.map((c) => Number(parent[c])));
  }

  prefetch(first: number): Prefetch {
    return {
      loader: `${this.name}:${first}`,
      sql: (reader, parent, scope) => {
        const shape = reader.shape(this.query.entity);
        const rows = `SELECT ${shape.select('r')} FROM "${shape.table}" r WHERE ${correlation(this.query, this.parentColumns, parent, scope)}
          ORDER BY ${this.query.orderSql} LIMIT ${inlineInt(first)}`;
        // Aggregates keep the order of a sorted subquery (PostgreSQL documents it for json_agg; SQLite's
        // json_group_array reads the subquery in order).
        if (reader.dialect === 'postgres') return `(SELECT COALESCE(json_agg(c), '[]') FROM (${rows}) c)`;
        return `(SELECT json_group_array(json_object(${shape.properties.map((p) => `'${p}', c."${p}"`).join(', ')})) FROM (${rows}) c)`;
      },
      prime: (context, parent, value) => {
        const shape = SqlReader.of(context.dataSource).shape(this.query.entity);
        const items = (typeof value === 'string' ? JSON.parse(value) : value) as Record<string, unknown>[];
        this.loader(context, first).prime(this.parentColumns.map((c) => Number(parent[c])), items.map((item) => shape.map(item)));
      },
    };
  }
}

/** How many children each parent has (e.g. `Customer.visitCount`), batched or inside the parent's statement. */
export class ChildCount {
  constructor(
    readonly name: string,
    readonly query: Pick<ChildrenQuery<unknown>, 'entity' | 'parentColumns' | 'studioColumn'>,
    readonly parentColumns: ParentColumns,
  ) {}

  private loader(context: GraphQLContext): DataLoader<readonly number[], number> {
    return context.loaders.get<readonly number[], number>(this.name,
      (keys) => countChildren(context.dataSource, this.query, keys, context.scope), (key) => key.join(':'));
  }

  load(context: GraphQLContext, parent: ObjectLiteral): Promise<number> {
    return this.loader(context).load(this.parentColumns.map((c) => Number(parent[c])));
  }

  prefetch(): Prefetch {
    return {
      loader: this.name,
      sql: (reader, parent, scope) => {
        const table = reader.shape(this.query.entity as EntityTarget<ObjectLiteral>).table;
        return `(SELECT COUNT(*) FROM "${table}" r WHERE ${correlation(this.query, this.parentColumns, parent, scope)})`;
      },
      prime: (context, parent, value) => this.loader(context).prime(this.parentColumns.map((c) => Number(parent[c])), Number(value)),
    };
  }
}

/** Fields of a GraphQL object type that can be read inside their parent's statement, by type and field name. */
const prefetchable = new Map<string, Map<string, (args: Record<string, unknown>) => Prefetch | undefined>>();

/** A `first`-sized list's prefetch, when `first` is valid (otherwise the field resolver reports it). */
export function listPrefetch<T extends ObjectLiteral>(list: ChildList<T>): (args: Record<string, unknown>) => Prefetch | undefined {
  return (args) => {
    const first = args['first'];
    return typeof first === 'number' && Number.isInteger(first) && first >= 0 && first <= MAX_PAGE_SIZE ? list.prefetch(first) : undefined;
  };
}

/**
 * Declares that `type.field` can be read inside the statement of a query returning `type`;
 * `build` turns the field's arguments into the {@link Prefetch} (undefined: let the field resolver
 * load it, e.g. to report a bad argument).
 */
export function registerPrefetch(type: string, field: string, build: (args: Record<string, unknown>) => Prefetch | undefined): void {
  let fields = prefetchable.get(type);
  if (!fields) {
    fields = new Map();
    prefetchable.set(type, fields);
  }
  fields.set(field, build);
}

/**
 * The prefetchable fields selected on `type` by the current field: on the field's value itself,
 * or, for a connection, on its `nodes` and `edges { node }`. Fragments, aliases, variables and
 * `@skip`/`@include` are followed as execution would.
 */
export function selectedPrefetches(info: GraphQLResolveInfo, type: string): Prefetch[] {
  const fields = prefetchable.get(type);
  if (!fields) return [];
  const found = new Map<string, Prefetch>();
  const included = (node: FieldNode | FragmentSpreadNode | InlineFragmentNode) =>
    getDirectiveValues(GraphQLSkipDirective, node, info.variableValues)?.['if'] !== true &&
    getDirectiveValues(GraphQLIncludeDirective, node, info.variableValues)?.['if'] !== false;
  const walk = (selectionSet: SelectionSetNode | undefined, typeName: string, visit: (node: FieldNode, typeName: string) => void) => {
    for (const selection of selectionSet?.selections ?? []) {
      if (!included(selection)) continue;
      if (selection.kind === Kind.FIELD) visit(selection, typeName);
      else if (selection.kind === Kind.INLINE_FRAGMENT) walk(selection.selectionSet, selection.typeCondition?.name.value ?? typeName, visit);
      else {
        const fragment = info.fragments[selection.name.value];
        if (fragment) walk(fragment.selectionSet, fragment.typeCondition.name.value, visit);
      }
    }
  };
  const onParent = (node: FieldNode, typeName: string) => {
    const build = typeName === type ? fields.get(node.name.value) : undefined;
    const definition = build ? info.schema.getType(type) : undefined;
    if (!build || !isObjectType(definition)) return;
    const field = definition.getFields()[node.name.value];
    if (!field) return;
    const prefetch = build(getArgumentValues(field, node, info.variableValues));
    if (prefetch) found.set(prefetch.loader, prefetch);
  };
  const returned = getNamedType(info.returnType).name;
  for (const fieldNode of info.fieldNodes) {
    if (returned === type) walk(fieldNode.selectionSet, type, onParent);
    else {
      walk(fieldNode.selectionSet, returned, (node) => {
        if (node.name.value === 'nodes') walk(node.selectionSet, type, onParent);
        else if (node.name.value === 'edges') walk(node.selectionSet, '', (edge) => { if (edge.name.value === 'node') walk(edge.selectionSet, type, onParent); });
      });
    }
  }
  return [...found.values()];
}

/**
 * What a parent query adds to its statement for `prefetches`: the SELECT expressions (for the parent
 * row under `parent`) and, per row read, the priming of the loaders with their values.
 */
export function prefetchColumns(context: GraphQLContext, prefetches: readonly Prefetch[], parent: string): {
  readonly extras: readonly string[];
  readonly onRow: (entity: ObjectLiteral, row: Record<string, unknown>) => void;
} {
  const reader = SqlReader.of(context.dataSource);
  return {
    extras: prefetches.map((prefetch) => prefetch.sql(reader, parent, context.scope)),
    onRow: (entity, row) => prefetches.forEach((prefetch, i) => prefetch.prime(context, entity, row[`x${i}`])),
  };
}
