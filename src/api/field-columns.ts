import {
  Kind,
  isObjectType,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLObjectType,
  type GraphQLSchema,
  type SelectionSetNode,
} from 'graphql';

/**
 * Which columns of its parent record fields with resolvers read, e.g. `Customer.checkedIn` reads
 * `lastCheckinAt`, `lastCheckinStudioId` and `lastCheckoutAt`. A selected field with a resolver that
 * declared nothing makes the statement read every column (safe, slower). The columns every read of
 * the type includes anyway (its id and the parent keys of its nested lists, see
 * {@link selectedColumns}) need not be named. Plain data, exported by the resolver modules and
 * attached to the schema when it is built ({@link declareFieldColumns}): nothing registers itself on
 * import.
 */
export interface FieldColumns {
  readonly type: string;
  readonly fields: Readonly<Record<string, readonly string[]>>;
}

/** Columns that fields with resolvers read from their parent, by schema, type and field. */
const declared = new WeakMap<GraphQLSchema, Map<string, Map<string, readonly string[]>>>();

/** Attaches the resolvers' declared columns to the schema they are part of (src/graphql/schema.ts, once). */
export function declareFieldColumns(schema: GraphQLSchema, declarations: readonly FieldColumns[]): void {
  let byType = declared.get(schema);
  if (!byType) declared.set(schema, (byType = new Map()));
  for (const { type, fields } of declarations) {
    let known = byType.get(type);
    if (!known) byType.set(type, (known = new Map()));
    for (const [field, columns] of Object.entries(fields)) known.set(field, columns);
  }
}

/** What the walk needs besides the nodes. */
export interface ColumnSource {
  readonly schema: GraphQLSchema;
  readonly fragments: Readonly<Record<string, FragmentDefinitionNode>>;
}

/** Answers per field node: a cached document's AST is the same objects in every request. */
const cache = new WeakMap<FieldNode, readonly string[] | null>();

/**
 * The columns (entity properties) that the selections of `nodes` — field nodes whose value is a
 * `type` record, merged as execution merges them — read: a plain field (graphql-js's default
 * resolver: `simpleResolvers` on the record types) reads the column of its name, a field with a
 * resolver what it declared ({@link FieldColumns}). Null means every column: a field with a
 * resolver that declared nothing, or a fragment on an abstract type. `@skip`/`@include` are ignored
 * (a skipped field's columns are read anyway), so the answer depends on the document alone and is
 * cached per field node.
 */
export function selectedColumns(
  source: ColumnSource,
  typeName: string,
  nodes: readonly FieldNode[],
  isColumn: (property: string) => boolean,
): readonly string[] | null {
  const type = source.schema.getType(typeName);
  if (!isObjectType(type)) return null;
  const single = nodes.length === 1 ? nodes[0]! : undefined;
  if (single && cache.has(single)) return cache.get(single)!;
  const found = new Set<string>();
  let all = false;
  for (const node of nodes) {
    if (!collect(source, type, node.selectionSet, found, isColumn)) {
      all = true;
      break;
    }
  }
  const answer = all ? null : [...found].sort();
  if (single) cache.set(single, answer);
  return answer;
}

/** Adds the columns `selectionSet` reads on `type` to `found`; false: every column is needed. */
function collect(
  source: ColumnSource,
  type: GraphQLObjectType,
  selectionSet: SelectionSetNode | undefined,
  found: Set<string>,
  isColumn: (property: string) => boolean,
): boolean {
  const fields = type.getFields();
  const declaredHere = declared.get(source.schema)?.get(type.name);
  for (const selection of selectionSet?.selections ?? []) {
    if (selection.kind === Kind.FIELD) {
      const name = selection.name.value;
      if (name === '__typename') continue;
      const columns = declaredHere?.get(name);
      if (columns) {
        for (const column of columns) found.add(column);
        continue;
      }
      const field = fields[name];
      if (field && field.resolve === undefined && isColumn(name)) {
        found.add(name);
        continue;
      }
      return false;
    }
    const fragment = selection.kind === Kind.INLINE_FRAGMENT ? selection : source.fragments[selection.name.value];
    if (!fragment) return false;
    const condition = fragment.typeCondition?.name.value;
    if (condition !== undefined && condition !== type.name) {
      // A fragment on another object type never applies here; one on an interface or union might.
      if (isObjectType(source.schema.getType(condition))) continue;
      return false;
    }
    if (!collect(source, type, fragment.selectionSet, found, isColumn)) return false;
  }
  return true;
}
