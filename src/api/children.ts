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
  type GraphQLSchema,
  type InlineFragmentNode,
  type SelectionSetNode,
} from 'graphql';
import type { DataSource, EntityTarget, ObjectLiteral } from 'typeorm';
import { RowShape, SqlReader, type SqlParams } from '../db/sql-reader.js';
import { declareFieldColumns, selectedColumns, type ColumnSource, type FieldColumns } from './field-columns.js';
import type { GraphQLContext } from './context.js';
import { ErrorCode, clientError } from './errors.js';
import { ArgsType, Field, ID, Int } from 'type-graphql';
import { DEFAULT_NESTED_SIZE, MAX_PAGE_SIZE } from './pagination.js';
import type { Scope } from './scope.js';

/** A list of child records under parent records, e.g. the visits of customers. */
export interface ChildrenQuery<T> {
  readonly entity: EntityTarget<T>;
  /** Columns naming the parent, e.g. `["tenantId", "customerId"]`. */
  readonly parentColumns: readonly string[];
  /** Order inside each parent's list, by properties, e.g. `[['checkinAt', 'DESC'], ['id', 'DESC']]` (the last one unique within a parent). */
  readonly order: readonly ChildOrder[];
  /** The child's studio column for the viewer's scope. */
  readonly studioColumn: string;
}

/** One column of a child list's order and its direction. */
export type ChildOrder = readonly [column: string, direction: 'ASC' | 'DESC'];

/**
 * A nested list's own conditions for one call — `after` (items past the one with that id, in the
 * list's order) and a time range — as SQL over the child row `alias` of `table`, values inlined
 * (checked integers only). `key` tells calls with different conditions apart (DataLoaders, prefetches).
 */
export interface ChildWindow {
  readonly key: string;
  /** `''`, or ` AND ...`. */
  readonly sql: (alias: string, table: string) => string;
}

/** No conditions: the list from its start. */
export const WHOLE_LIST: ChildWindow = { key: '', sql: () => '' };

/** What a nested list's arguments may add: `after` an id, and a time range over one of its time columns. */
export interface ChildWindowArgs {
  readonly after?: string | null | undefined;
  readonly range?:
    | {
        readonly column: string;
        readonly argument: string;
        readonly value: { readonly from?: Date | null; readonly to?: Date | null } | null | undefined;
      }
    | undefined;
}

/**
 * The {@link ChildWindow} of a nested list call `field` ordered by `order`: `after` must be one of our
 * ids (BAD_USER_INPUT otherwise); the list goes on past that record's place in the order (an id of a
 * record not in the list: nothing). A range must have `from` before `to`; either end may be open.
 */
export function childWindow(field: string, order: readonly ChildOrder[], args: ChildWindowArgs): ChildWindow {
  const parts: ((alias: string, table: string) => string)[] = [];
  const keys: string[] = [];
  if (args.after != null) {
    if (!/^\d{1,10}$/.test(args.after) || Number(args.after) > 2_147_483_647) {
      throw clientError(
        ErrorCode.BAD_USER_INPUT,
        `${field}(after): expected the id of an item of this list, got ${JSON.stringify(args.after)}`,
      );
    }
    const id = Number(args.after);
    const direction = order[0]![1];
    if (order.some(([, d]) => d !== direction)) throw new Error(`${field}: after needs an order in one direction`);
    const columns = order.map(([column]) => column);
    parts.push(
      (alias, table) =>
        ` AND (${columns.map((c) => `${alias}."${c}"`).join(', ')}) ${direction === 'DESC' ? '<' : '>'} (SELECT ${columns.map((c) => `a."${c}"`).join(', ')} FROM "${table}" a WHERE a."id" = ${inlineInt(id)})`,
    );
    keys.push(`after=${id}`);
  }
  const range = args.range;
  if (range?.value) {
    const from = range.value.from?.getTime();
    const to = range.value.to?.getTime();
    if (from !== undefined && to !== undefined && from >= to)
      throw clientError(ErrorCode.BAD_USER_INPUT, `${field}(${range.argument}): from must be before to`);
    if (from !== undefined) parts.push((alias) => ` AND ${alias}."${range.column}" >= ${inlineInt(from)}`);
    if (to !== undefined) parts.push((alias) => ` AND ${alias}."${range.column}" < ${inlineInt(to)}`);
    if (from !== undefined || to !== undefined) keys.push(`${range.column}=${from ?? ''}..${to ?? ''}`);
  }
  if (parts.length === 0) return WHOLE_LIST;
  return { key: keys.join(','), sql: (alias, table) => parts.map((part) => part(alias, table)).join('') };
}

/** `alias."c1" DESC, alias."c2" DESC`, the properties of `order` named by `name` (their database columns, or the property names a subquery selected them as). */
function orderSql(order: readonly ChildOrder[], alias: string, name: (property: string) => string): string {
  return order.map(([property, direction]) => `${alias}."${name(property)}" ${direction}`).join(', ');
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
  query: Pick<ChildrenQuery<unknown>, 'entity' | 'parentColumns' | 'studioColumn'>,
  table: string,
  parents: readonly (readonly number[])[],
  scope: Scope,
  window: ChildWindow = WHOLE_LIST,
): { with: string; from: string } {
  const names = query.parentColumns.map((_, i) => `"p${i}"`);
  const values = parents.map((key) => `(${key.map((v) => params.int(v)).join(', ')})`).join(', ');
  const on = query.parentColumns.map((c, i) => `r."${c}" = parents.${names[i]}`).join(' AND ');
  return {
    with: `WITH parents (${names.join(', ')}) AS (VALUES ${values})`,
    from: `parents ${reader.dialect === 'sqlite' ? 'CROSS JOIN' : 'JOIN'} "${table}" r ON ${on}${scope.studioSql(params, `r."${query.studioColumn}"`)}${ownerSql(reader, query, scope)}${window.sql('r', table)}`,
  };
}

const parentKey = (row: Record<string, unknown>, columns: readonly string[]) => columns.map((c) => String(row[c])).join(':');

/**
 * The first `first` children of many parents in one statement, whatever the number of parents: a
 * ROW_NUMBER() window per parent, the child's columns (`properties` and the parent columns, or
 * all) read straight into entity instances (sql-reader.ts). Scoped by the viewer inside the statement.
 */
export async function loadChildren<T extends ObjectLiteral>(
  dataSource: DataSource,
  query: ChildrenQuery<T>,
  parents: readonly (readonly number[])[],
  first: number,
  scope: Scope,
  properties: Iterable<string> | null = null,
  window: ChildWindow = WHOLE_LIST,
): Promise<T[][]> {
  if (parents.length === 0 || first === 0) return parents.map(() => []);
  const reader = SqlReader.of(dataSource);
  const shape = reader.shape(query.entity).pick(properties === null ? null : [...properties, ...query.parentColumns]);
  const params = reader.params();
  const join = parentsJoin(reader, params, query, shape.table, parents, scope, window);
  const partition = query.parentColumns.map((c) => `r."${c}"`).join(', ');
  const rows = await reader.all<Record<string, unknown>>(
    `${join.with} SELECT * FROM (SELECT ${shape.select('r')}, ROW_NUMBER() OVER (PARTITION BY ${partition} ORDER BY ${orderSql(query.order, 'r', (p) => shape.column(p))}) AS "rn"
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
 * subquery correlated to the parent row (alias `parent`); its value is kept on the parent entity
 * under {@link Prefetch.loader} (the name the field's DataLoader would have), where the field's
 * resolver finds it ({@link useFieldHints}), so the field runs no statement of its own.
 */
export interface Prefetch {
  /** The DataLoader it fills (also what makes two selections of the same field and arguments one). */
  readonly loader: string;
  sql(reader: SqlReader, parent: string, scope: Scope): string;
  /** The field's value from the subquery's. */
  value(raw: unknown): unknown;
}

/** The parent's columns that the child's {@link ChildrenQuery.parentColumns} refer to, in the same order. */
export type ParentColumns = readonly string[];

function correlation(
  reader: SqlReader,
  query: Pick<ChildrenQuery<unknown>, 'entity' | 'parentColumns' | 'studioColumn'>,
  parentColumns: ParentColumns,
  parent: string,
  scope: Scope,
): string {
  const on = query.parentColumns.map((c, i) => `r."${c}" = ${parent}."${parentColumns[i]}"`).join(' AND ');
  const studios = scope.studioIds;
  const visible =
    studios === null
      ? ''
      : studios.length === 0
        ? ' AND 1 = 0'
        : ` AND r."${query.studioColumn}" IN (${studios.map(inlineInt).join(', ')})`;
  return `${on}${visible}${ownerSql(reader, query, scope)}`;
}

/**
 * A member sees only their own children wherever the child belongs to a customer (it has
 * `tenantId` and `customerId`): e.g. `ClassSlot.bookings` lists their own bookings of the slot.
 */
function ownerSql(reader: SqlReader, query: Pick<ChildrenQuery<unknown>, 'entity'>, scope: Scope): string {
  if (!scope.member) return '';
  const shape = reader.shape(query.entity as EntityTarget<ObjectLiteral>);
  return shape.has('customerId') && shape.has('tenantId') ? scope.ownerSql('r') : '';
}

/**
 * A to-many field of a parent type (e.g. `Customer.visits`): loaded in batches per request
 * ({@link loadChildren}), or — when the parent's resolver sees it selected — inside the parent's
 * statement as a JSON array ({@link prefetch}). Both give the same rows in the same order, with the
 * columns the field's selection reads (field-columns.ts) plus the child's id, parent and order
 * columns; the DataLoader is per size and column set, so a selection never sees a partial child
 * read for another.
 */
export class ChildList<T extends ObjectLiteral> {
  constructor(
    /** Names the DataLoader, e.g. `visitsOfCustomer`. */
    readonly name: string,
    readonly query: ChildrenQuery<T>,
    /** The parent's columns (= properties) matching `query.parentColumns`. */
    readonly parentColumns: ParentColumns,
    /** The field's own conditions from its arguments (`after`, a range); throws BAD_USER_INPUT on bad ones. */
    readonly window: (args: Readonly<Record<string, unknown>>) => ChildWindow = () => WHOLE_LIST,
  ) {}

  /** Read shapes by the whole shape (one per DataSource) and the selected columns (cached per field node by field-columns.ts). */
  private readonly shapes = new WeakMap<RowShape<T>, WeakMap<readonly string[], RowShape<T>>>();

  /** The child's columns that `nodes` (the list field's merged nodes) read, with the ones this list needs itself. */
  private shape(reader: SqlReader, source: ColumnSource, childType: string, nodes: readonly FieldNode[]): RowShape<T> {
    const whole = reader.shape(this.query.entity);
    const selected = selectedColumns(source, childType, nodes, (property) => whole.has(property));
    if (selected === null) return whole;
    let byColumns = this.shapes.get(whole);
    if (!byColumns) {
      byColumns = new WeakMap();
      this.shapes.set(whole, byColumns);
    }
    let shape = byColumns.get(selected);
    if (!shape) {
      shape = whole.pick([
        ...selected,
        ...(whole.has('id') ? ['id'] : []),
        ...this.query.parentColumns,
        ...this.query.order.map(([column]) => column),
      ]);
      byColumns.set(selected, shape);
    }
    return shape;
  }

  /** The DataLoader (and prefetch) name of one call: list, size, conditions, columns. */
  private loaderName(first: number, window: ChildWindow, shape: RowShape<T>): string {
    return `${this.name}:${first}:${window.key}:${shape.key}`;
  }

  private loader(context: GraphQLContext, first: number, window: ChildWindow, shape: RowShape<T>): DataLoader<readonly number[], T[]> {
    return context.loaders.get<readonly number[], T[]>(
      this.loaderName(first, window, shape),
      (keys) => loadChildren(context.dataSource, this.query, keys, first, context.scope, shape.properties, window),
      (key) => key.join(':'),
    );
  }

  /**
   * The first `first` children of `parent` for the field being resolved (batched with the other
   * parents of the request), within the conditions `args` give (see {@link window}).
   */
  load(
    context: GraphQLContext,
    parent: ObjectLiteral,
    first: number,
    info: GraphQLResolveInfo,
    args: Readonly<Record<string, unknown>> = {},
  ): Promise<T[]> {
    const shape = this.shape(SqlReader.of(context.dataSource), info, getNamedType(info.returnType).name, info.fieldNodes);
    return this.loader(context, first, this.window(args), shape).load(this.parentColumns.map((c) => Number(parent[c])));
  }

  /** The call's conditions, or undefined when its arguments are bad (the field resolver then reports them). */
  windowOf(args: Readonly<Record<string, unknown>>): ChildWindow | undefined {
    try {
      return this.window(args);
    } catch {
      return undefined;
    }
  }

  /** Where a value read inside the parent's statement is kept for the field being resolved (see {@link Prefetch.loader}). */
  prefetchedKey(args: Record<string, unknown>, info: GraphQLResolveInfo, reader: SqlReader): string | undefined {
    const first = args['first'];
    const window = this.windowOf(args);
    if (typeof first !== 'number' || !window) return undefined;
    return this.loaderName(first, window, this.shape(reader, info, getNamedType(info.returnType).name, info.fieldNodes));
  }

  /** The list as a JSON array inside the parent's statement, for the merged field nodes `nodes` of the child type `childType`. */
  prefetch(
    first: number,
    reader: SqlReader,
    source: ColumnSource,
    childType: string,
    nodes: readonly FieldNode[],
    window: ChildWindow = WHOLE_LIST,
  ): Prefetch {
    const shape = this.shape(reader, source, childType, nodes);
    return {
      loader: this.loaderName(first, window, shape),
      sql: (reader, parent, scope) => {
        const rows = `SELECT ${shape.select('r')} FROM "${shape.table}" r WHERE ${correlation(reader, this.query, this.parentColumns, parent, scope)}${window.sql('r', shape.table)}
          ORDER BY ${orderSql(this.query.order, 'r', (p) => shape.column(p))} LIMIT ${inlineInt(first)}`;
        // The order inside the aggregate itself: an aggregate need not keep the order of a sorted subquery.
        const order = orderSql(this.query.order, 'c', (p) => p);
        if (reader.dialect === 'postgres') return `(SELECT COALESCE(json_agg(c ORDER BY ${order}), '[]') FROM (${rows}) c)`;
        return `(SELECT json_group_array(json_object(${shape.properties.map((p) => `'${p}', c."${p}"`).join(', ')}) ORDER BY ${order}) FROM (${rows}) c)`;
      },
      value: (raw) => ((typeof raw === 'string' ? JSON.parse(raw) : raw) as Record<string, unknown>[]).map((item) => shape.map(item)),
    };
  }
}

/**
 * A nested list whose calls take `after` (an id) and a range over its time column `rangeColumn`,
 * given as the argument of that name (see {@link NestedPageArgs}): `Customer.visits(checkinAt)`.
 */
export function pagedChildList<T extends ObjectLiteral>(
  name: string,
  query: ChildrenQuery<T>,
  parentColumns: ParentColumns,
  field: string,
  rangeColumn: string,
): ChildList<T> {
  return new ChildList(name, query, parentColumns, (args) =>
    childWindow(field, query.order, {
      after: args['after'] as string | null | undefined,
      range: { column: rangeColumn, argument: rangeColumn, value: args[rangeColumn] as NonNullable<ChildWindowArgs['range']>['value'] },
    }),
  );
}

/** `first` and `after` of a nested list (`Customer.visits(first, after)`). */
@ArgsType()
export class NestedPageArgs {
  @Field(() => Int, { defaultValue: DEFAULT_NESTED_SIZE, description: `How many items (at most ${MAX_PAGE_SIZE}).` })
  first!: number;

  @Field(() => ID, {
    nullable: true,
    description: 'The id of the last item you have: the list goes on after it (an id not in the list: nothing).',
  })
  after?: string | null;
}

/** How many children each parent has (e.g. `Customer.visitCount`), batched or inside the parent's statement. */
export class ChildCount {
  constructor(
    readonly name: string,
    readonly query: Pick<ChildrenQuery<unknown>, 'entity' | 'parentColumns' | 'studioColumn'>,
    readonly parentColumns: ParentColumns,
  ) {}

  private loader(context: GraphQLContext): DataLoader<readonly number[], number> {
    return context.loaders.get<readonly number[], number>(
      this.name,
      (keys) => countChildren(context.dataSource, this.query, keys, context.scope),
      (key) => key.join(':'),
    );
  }

  load(context: GraphQLContext, parent: ObjectLiteral): Promise<number> {
    return this.loader(context).load(this.parentColumns.map((c) => Number(parent[c])));
  }

  /** Where a count read inside the parent's statement is kept (see {@link Prefetch.loader}). */
  prefetchedKey(): string {
    return this.name;
  }

  prefetch(): Prefetch {
    return {
      loader: this.name,
      sql: (reader, parent, scope) => {
        const table = reader.shape(this.query.entity as EntityTarget<ObjectLiteral>).table;
        return `(SELECT COUNT(*) FROM "${table}" r WHERE ${correlation(reader, this.query, this.parentColumns, parent, scope)})`;
      },
      value: (raw) => Number(raw),
    };
  }
}

/** Fields of a GraphQL object type that can be read inside their parent's statement, by schema, type and field name. */
const prefetchable = new WeakMap<GraphQLSchema, Map<string, Map<string, PrefetchField>>>();

/** A prefetchable field: how its prefetch is built, and where its resolver finds the value. */
interface PrefetchField {
  readonly build: PrefetchBuilder;
  /** The {@link Prefetch.loader} the field being resolved would have been prefetched under (undefined: none). */
  readonly key: (args: Record<string, unknown>, info: GraphQLResolveInfo, reader: SqlReader) => string | undefined;
}

/** Where a prefetchable field was selected: its merged field nodes and what building the statement needs. */
export interface PrefetchSelection {
  readonly reader: SqlReader;
  readonly source: ColumnSource;
  /** The named type of the field's value, e.g. `Visit`. */
  readonly childType: string;
  /** The field's nodes with one response key, merged as execution merges them. */
  readonly nodes: readonly FieldNode[];
}

type PrefetchBuilder = (args: Record<string, unknown>, selection: PrefetchSelection) => Prefetch | undefined;

/** A `first`-sized list's prefetch, when `first` is valid (otherwise the field resolver reports it). */
export function listPrefetch<T extends ObjectLiteral>(list: ChildList<T>): PrefetchField {
  return {
    build: (args, { reader, source, childType, nodes }) => {
      const first = args['first'];
      const window = list.windowOf(args);
      return typeof first === 'number' && Number.isInteger(first) && first >= 0 && first <= MAX_PAGE_SIZE && window
        ? list.prefetch(first, reader, source, childType, nodes, window)
        : undefined;
    },
    key: (args, info, reader) => list.prefetchedKey(args, info, reader),
  };
}

/** A count's prefetch. */
export function countPrefetch(count: ChildCount): PrefetchField {
  return { build: () => count.prefetch(), key: () => count.prefetchedKey() };
}

/** Values read inside a parent's statement, on the parent entity, by {@link Prefetch.loader}. */
const PREFETCHED = Symbol('prefetched');
type WithPrefetched = { [PREFETCHED]?: Map<string, unknown> };

/**
 * That `type.field` can be read inside the statement of a query returning `type`: `prefetch.build`
 * turns the field's arguments into the {@link Prefetch} (undefined: let the field resolver load it,
 * e.g. to report a bad argument); `prefetch.key` finds the value for the field being resolved.
 * `reads`: the parent's columns its resolver reads (the parent columns of the list), see
 * {@link FieldColumns}. Plain data, exported by the resolver modules and attached to the schema when
 * it is built ({@link useFieldHints}).
 */
export interface PrefetchHint {
  readonly type: string;
  readonly field: string;
  readonly reads: readonly string[];
  readonly prefetch: PrefetchField;
}

/** The resolvers' hints about the statements they read with. */
export interface FieldHints {
  readonly columns: readonly FieldColumns[];
  readonly prefetches: readonly PrefetchHint[];
}

/**
 * Attaches the resolvers' hints to the built schema (src/graphql/schema.ts, once): the columns
 * their fields read, and the fields that can be read inside their parent's statement. Each
 * prefetchable field then answers from the value its parent's statement read, when there is one
 * for the field's arguments and selection, before its own resolver (which would otherwise run
 * type-graphql's argument handling and a DataLoader per parent); without one, the resolver runs
 * as before.
 */
export function useFieldHints(schema: GraphQLSchema, hints: FieldHints): void {
  declareFieldColumns(schema, [
    ...hints.columns,
    ...hints.prefetches.map(({ type, field, reads }) => ({ type, fields: { [field]: reads } })),
  ]);
  const byType = new Map<string, Map<string, PrefetchField>>();
  for (const { type, field, prefetch } of hints.prefetches) {
    let fields = byType.get(type);
    if (!fields) byType.set(type, (fields = new Map()));
    fields.set(field, prefetch);
  }
  prefetchable.set(schema, byType);
  for (const [typeName, fields] of byType) {
    const type = schema.getType(typeName);
    if (!isObjectType(type)) continue;
    for (const [fieldName, prefetch] of fields) {
      const field = type.getFields()[fieldName];
      const resolve = field?.resolve;
      if (!field || !resolve) continue;
      field.resolve = (source: WithPrefetched, args: Record<string, unknown>, context: GraphQLContext, info: GraphQLResolveInfo) => {
        const values = source?.[PREFETCHED];
        if (values) {
          const key = prefetch.key(args, info, SqlReader.of(context.dataSource));
          if (key !== undefined && values.has(key)) return values.get(key);
        }
        return resolve(source, args, context, info);
      };
    }
  }
}

/** What a query returning `type` records selects: the nodes of the records and the prefetchable fields among them. */
interface RecordSelection {
  /** Field nodes whose selection set is on `type` (the records themselves). */
  readonly nodes: readonly FieldNode[];
  readonly prefetches: readonly Prefetch[];
}

/**
 * The records' field nodes and prefetchable fields selected on `type` by the current field: on the
 * field's value itself, or, for a connection, on its `nodes` and `edges { node }`. Fragments,
 * aliases, variables and `@skip`/`@include` are followed as execution would; the nodes of one
 * response key are merged as execution merges them.
 */
function recordSelection(context: GraphQLContext, info: GraphQLResolveInfo, type: string): RecordSelection {
  const fields = prefetchable.get(info.schema)?.get(type);
  const reader = SqlReader.of(context.dataSource);
  const definition = info.schema.getType(type);
  const nodes: FieldNode[] = [];
  const found = new Map<string, Prefetch>();
  const included = (node: FieldNode | FragmentSpreadNode | InlineFragmentNode) =>
    getDirectiveValues(GraphQLSkipDirective, node, info.variableValues)?.['if'] !== true &&
    getDirectiveValues(GraphQLIncludeDirective, node, info.variableValues)?.['if'] !== false;
  const walk = (selectionSet: SelectionSetNode | undefined, typeName: string, visit: (node: FieldNode, typeName: string) => void) => {
    for (const selection of selectionSet?.selections ?? []) {
      if (!included(selection)) continue;
      if (selection.kind === Kind.FIELD) visit(selection, typeName);
      else if (selection.kind === Kind.INLINE_FRAGMENT)
        walk(selection.selectionSet, selection.typeCondition?.name.value ?? typeName, visit);
      else {
        const fragment = info.fragments[selection.name.value];
        if (fragment) walk(fragment.selectionSet, fragment.typeCondition.name.value, visit);
      }
    }
  };
  /** The prefetchable fields of records selected by `records` (nodes of one path). */
  const onRecords = (records: readonly FieldNode[]) => {
    nodes.push(...records);
    if (!fields || !isObjectType(definition)) return;
    const byKey = new Map<string, FieldNode[]>();
    for (const record of records) {
      walk(record.selectionSet, type, (node, typeName) => {
        if (typeName !== type || !fields.has(node.name.value)) return;
        const key = node.alias?.value ?? node.name.value;
        const list = byKey.get(key);
        if (list) list.push(node);
        else byKey.set(key, [node]);
      });
    }
    for (const merged of byKey.values()) {
      const first = merged[0]!;
      const field = definition.getFields()[first.name.value];
      if (!field) continue;
      const prefetch = fields.get(first.name.value)!.build(getArgumentValues(field, first, info.variableValues), {
        reader,
        source: info,
        childType: getNamedType(field.type).name,
        nodes: merged,
      });
      if (prefetch) found.set(prefetch.loader, prefetch);
    }
  };
  const returned = getNamedType(info.returnType).name;
  if (returned === type) onRecords(info.fieldNodes);
  else {
    const viaNodes: FieldNode[] = [];
    const viaEdges: FieldNode[] = [];
    for (const fieldNode of info.fieldNodes) {
      walk(fieldNode.selectionSet, returned, (node) => {
        if (node.name.value === 'nodes') viaNodes.push(node);
        else if (node.name.value === 'edges')
          walk(node.selectionSet, '', (edge) => {
            if (edge.name.value === 'node') viaEdges.push(edge);
          });
      });
    }
    // Each response key under the connection is a path of its own; merging them all is a superset
    // for the columns, and each path's prefetches are found per key within it.
    const paths = new Map<string, FieldNode[]>();
    for (const node of [...viaNodes.map((n) => ['n', n] as const), ...viaEdges.map((n) => ['e', n] as const)]) {
      const key = `${node[0]}:${node[1].alias?.value ?? node[1].name.value}`;
      const list = paths.get(key);
      if (list) list.push(node[1]);
      else paths.set(key, [node[1]]);
    }
    for (const path of paths.values()) onRecords(path);
  }
  return { nodes, prefetches: [...found.values()] };
}

/** How a query reads the records it returns: their columns, and what the statement adds for the prefetched fields. */
export interface RecordRead<T extends ObjectLiteral> {
  /** The record's columns to read (every selected one, and `always`). */
  readonly shape: RowShape<T>;
  /** SELECT expressions for the parent row, in order: select them as `"x0"`, `"x1"`... */
  readonly extras: readonly string[];
  /** Keeps one row's values of the prefetched fields on its entity. */
  readonly onRow: (entity: T, row: Record<string, unknown>) => void;
}

/**
 * What a query returning `type` records (`entity` rows, under the alias `parent` in its statement)
 * reads for the current selection: the columns its fields read plus `always` (the keys its
 * resolvers use: id, cursor column, parent columns of nested lists), and the prefetched nested
 * fields as correlated subqueries whose values the entities keep for their fields' resolvers.
 */
export function recordRead<T extends ObjectLiteral>(
  context: GraphQLContext,
  info: GraphQLResolveInfo,
  type: string,
  entity: EntityTarget<T>,
  parent: string,
  always: readonly string[],
): RecordRead<T> {
  const reader = SqlReader.of(context.dataSource);
  const whole = reader.shape(entity);
  const { nodes, prefetches } = recordSelection(context, info, type);
  const selected = selectedColumns(info, type, nodes, (property) => whole.has(property));
  return {
    shape: selected === null ? whole : whole.pick([...selected, ...always]),
    extras: prefetches.map((prefetch) => prefetch.sql(reader, parent, context.scope)),
    onRow:
      prefetches.length === 0
        ? () => undefined
        : (entity, row) => {
            const values = new Map<string, unknown>();
            prefetches.forEach((prefetch, i) => values.set(prefetch.loader, prefetch.value(row[`x${i}`])));
            (entity as WithPrefetched)[PREFETCHED] = values;
          },
  };
}
