import type { ApolloServerPlugin } from '@apollo/server';
import {
  GraphQLError,
  Kind,
  visit,
  getNamedType,
  getNullableType,
  isListType,
  isObjectType,
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLNamedType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';
import { getComplexity, type ComplexityEstimator } from 'graphql-query-complexity';
import { ErrorCode, clientError } from './errors.js';

/** How large a query may be; checked after validation, before anything is resolved. */
export interface QueryLimits {
  /**
   * Deepest field nesting allowed: `{ customers { nodes { id } } }` has depth 3. Fields under
   * `__schema` and `__type` are not counted: introspection is sized by the schema, not by data.
   * @default 10
   */
  readonly maxDepth?: number;
  /**
   * Highest estimated cost allowed: the number of values the answer can hold plus the work of the
   * fields that scan rather than read a page. Every field costs 1, and a list multiplies what is
   * selected inside it by its size — `first` or `last` when given, otherwise
   * {@link DEFAULT_CONNECTION_COST_SIZE} for a connection and {@link DEFAULT_LIST_COST_SIZE} for any
   * other list; aggregates, `totalCount` and counts add their scan weight ({@link QUERY_COSTS}).
   * @default 10000
   */
  readonly maxCost?: number;
  /**
   * Most field selections the cost walk visits once fragments are expanded (a guard against
   * fragments that spread each other many times); more is reported as QUERY_TOO_COMPLEX.
   * @default 10000
   */
  readonly maxNodes?: number;
}

/**
 * The most lexical tokens a query document may have; parsing stops there (GRAPHQL_PARSE_FAILED,
 * "Document contains more that 50000 tokens", graphql-js's wording), before validation and
 * costing. A query within the node limit below needs fewer (a field with an alias is 3 to 5
 * tokens); a 1 MB body of aliases would otherwise hold the event loop for seconds in parsing and
 * validation alone.
 */
export const MAX_QUERY_TOKENS = 50_000;
export const DEFAULT_MAX_DEPTH = 10;
export const DEFAULT_MAX_COST = 10_000;
export const DEFAULT_MAX_NODES = 10_000;
/**
 * The size a connection is costed at without `first`/`last`: its default page size
 * (`DEFAULT_PAGE_SIZE` in pagination.ts, repeated so that this module loads without type-graphql's
 * decorators; a test keeps the two equal).
 */
export const DEFAULT_CONNECTION_COST_SIZE = 20;
/** The size any other list is costed at without `first`/`last`. */
export const DEFAULT_LIST_COST_SIZE = 10;

/**
 * What the fields that scan cost, in the points of the cost limit (one point: one value of the
 * answer). Declared on the fields with type-graphql's `complexity` option (the field's
 * `extensions.complexity`, as graphql-query-complexity's `fieldExtensionsEstimator` reads it) and
 * added by {@link costEstimator}; aliases add up, each alias being its own statement.
 *
 * Measured (bench/README.md, "Results"; 100k customers, 1M events): a page of 50 customers with
 * their visits and contracts is 1,051 points and takes 1.3–1.8 ms of server time, about 1.5 µs a
 * point. One aggregate statement takes 5 ms (`occupancy`: 4,900 aliases ran 25 s on SQLite) to
 * 19 ms (`visitStats` of one studio-week, SQLite; 3.7 ms server and ~17 ms PostgreSQL time): 3,000
 * to 12,000 points of page work. They are priced lower, at {@link QUERY_COSTS.aggregate}, so that
 * one query still holds a dashboard's handful of aggregates (ten at most at the default limit, some
 * 50–200 ms of work at that size), while 4,900 aliased ones (4.9 million) are refused; the per-token
 * budget (cost-budget.ts) bounds how often.
 */
export const QUERY_COSTS = {
  /**
   * One GROUP BY or COUNT statement over a table, whatever it returns: `occupancy`, every
   * `...Stats` query, `totalCount` of a connection (counted once per connection, not per row of its page).
   */
  aggregate: 1000,
  /** Per day of a statistics `range`: the rows such a statement reads grow with the range (a year adds 3,650). */
  statsDay: 10,
  /** A count of one parent's children through an index (`Customer.visitCount`), per parent. */
  childCount: 10,
} as const;

const DAY_MS = 86_400_000;
/** The most buckets a statistics answer holds (time-buckets.ts `MAX_BUCKETS`, repeated for the same reason as above; a test keeps the two equal). */
export const MAX_STATS_BUCKETS = 2000;
/** The most buckets of all `groupBy` dimensions together (stats-query.ts `MAX_GROUPS`). */
export const MAX_STATS_GROUPS = 10_000;
const BUCKET_MS: Readonly<Record<string, number>> = { HOUR: DAY_MS / 24, DAY: DAY_MS, WEEK: 7 * DAY_MS, MONTH: 28 * DAY_MS };
const CYCLE_SIZE: Readonly<Record<string, number>> = { HOUR_OF_DAY: 24, DAY_OF_WEEK: 7 };
/** What a statistics range without `from` is costed as. */
const OPEN_RANGE_COST_MS = 365 * DAY_MS;

/**
 * The `complexity` of a statistics query (type-graphql `@Query({ complexity })`): one aggregate,
 * plus {@link QUERY_COSTS.statsDay} per day of `range`, plus its buckets times what is selected in
 * each — one per hour, day or week of the range for calendar groupings (`groupBy`, or DAY when the
 * query has no `groupBy`), 24 and 7 for the hours of the day and days of the week, the number of
 * `studioIds` for studios (when given), {@link DEFAULT_LIST_COST_SIZE} for the others (types, classes);
 * with several dimensions, the product.
 */
export function statsComplexity(
  defaultGrouping: 'DAY' | 'OTHER',
): (options: { readonly args: Record<string, unknown>; readonly childComplexity: number }) => number {
  return ({ args, childComplexity }) => {
    const range = args['range'] as { from?: unknown; to?: unknown } | null | undefined;
    const from = range?.from instanceof Date ? range.from.getTime() : NaN;
    const to = range?.to instanceof Date ? range.to.getTime() : Date.now();
    // An invalid range is refused by the resolver before any SQL; it is costed as one day. A range
    // left open at `from` reaches back to the first data: costed as a year.
    const span = !Number.isFinite(from) ? OPEN_RANGE_COST_MS : to > from ? to - from : DAY_MS;
    const groupBy = args['groupBy'];
    const groupings: readonly unknown[] = Array.isArray(groupBy) ? groupBy : typeof groupBy === 'string' ? [groupBy] : [defaultGrouping];
    // Buckets are the product of each dimension's groups: periods by the span, cycles by their length.
    let buckets = 1;
    for (const grouping of groupings) {
      const bucketMs = typeof grouping === 'string' ? BUCKET_MS[grouping] : undefined;
      const cycle = typeof grouping === 'string' ? CYCLE_SIZE[grouping] : undefined;
      const studioIds = grouping === 'STUDIO' && Array.isArray(args['studioIds']) ? args['studioIds'].length : undefined;
      buckets *=
        bucketMs !== undefined
          ? Math.min(MAX_STATS_BUCKETS, Math.ceil(span / bucketMs) + 1)
          : (cycle ?? studioIds ?? DEFAULT_LIST_COST_SIZE);
    }
    return (
      1 + QUERY_COSTS.aggregate + Math.ceil((QUERY_COSTS.statsDay * span) / DAY_MS) + Math.min(MAX_STATS_GROUPS, buckets) * childComplexity
    );
  };
}

/** What {@link enforceLimits} measured. */
export interface QueryMeasure {
  readonly depth: number;
  readonly cost: number;
}

/**
 * Checks one resolved operation against the limits; throws a client error (HTTP 400) with code
 * QUERY_TOO_DEEP or QUERY_TOO_COMPLEX whose message states the limit and the measured value.
 * Depth is checked first, so a deep query is never costed. Returns what was measured.
 */
export function enforceLimits(
  schema: GraphQLSchema,
  document: DocumentNode,
  operation: OperationDefinitionNode,
  variables: Readonly<Record<string, unknown>> | undefined,
  limits: QueryLimits = {},
): QueryMeasure {
  const { maxDepth = DEFAULT_MAX_DEPTH, maxCost = DEFAULT_MAX_COST, maxNodes = DEFAULT_MAX_NODES } = limits;
  const depth = operationDepth(document, operation);
  if (depth > maxDepth) {
    throw limitError(ErrorCode.QUERY_TOO_DEEP, `query depth ${depth} exceeds the limit of ${maxDepth}: nest fewer fields`, maxDepth, depth);
  }
  const cost = operationCost(schema, document, operation, variables, maxNodes);
  if (cost > maxCost) {
    throw limitError(
      ErrorCode.QUERY_TOO_COMPLEX,
      `query cost ${cost} exceeds the limit of ${maxCost}: ask for smaller pages (first/last) or fewer nested lists`,
      maxCost,
      cost,
    );
  }
  return { depth, cost };
}

/** Measures kept per document; more distinct page sizes than this for one document start the list afresh. */
const MEASURES_PER_DOCUMENT = 100;

/**
 * Apollo plugin: {@link enforceLimits} on every operation once it is resolved, before execution.
 *
 * Apollo keeps one parsed and validated `DocumentNode` per query text, so the measure is kept per
 * document, operation and the values of the variables the cost depends on (page sizes and
 * `@skip`/`@include` conditions): a client sending the same query with other ids is measured once.
 * A refusal is never kept; it is computed again, with the same answer.
 */
export function queryLimitsPlugin<TContext extends object>(
  limits: QueryLimits = {},
  /**
   * Called with every measured operation that is within the limits, before it runs (the per-token
   * budget, cost-budget.ts); a GraphQLError it resolves to refuses the operation. An operation
   * refused as QUERY_TOO_COMPLEX is charged its measured cost (and refused as such, whatever it resolves to).
   */
  charge?: (context: TContext, measure: QueryMeasure) => Promise<GraphQLError | undefined>,
): ApolloServerPlugin<TContext> {
  const measures = new WeakMap<DocumentNode, Map<string, QueryMeasure>>();
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ schema, document, operation, request, contextValue }) {
          // Apollo answers OPERATION_RESOLUTION_FAILURE itself before this hook when none resolves.
          if (!operation) return;
          let known = measures.get(document);
          if (!known) {
            known = new Map();
            measures.set(document, known);
          }
          const variables = request.variables ?? {};
          const key = `${operation.name?.value ?? ''}\0${JSON.stringify(costVariables(document).map((name) => variables[name]))}`;
          let measure = known.get(key);
          if (!measure) {
            try {
              measure = enforceLimits(schema, document, operation, request.variables, limits);
            } catch (error) {
              // Parsing, validating and measuring a query refused for its cost was work too (a second or
              // two for 5,000 aliases on a busy machine): it is charged what it asked for (the budget
              // takes at most a minute's worth), so that sending such queries again and again runs into
              // the budget — and then into the 429 answered before parsing — rather than the event loop.
              if (error instanceof GraphQLError && error.extensions['code'] === ErrorCode.QUERY_TOO_COMPLEX) {
                const measured = error.extensions['measured'];
                await charge?.(contextValue, {
                  depth: 0,
                  cost: typeof measured === 'number' ? measured : (limits.maxCost ?? DEFAULT_MAX_COST),
                });
              }
              throw error;
            }
            if (known.size >= MEASURES_PER_DOCUMENT) known.clear();
            known.set(key, measure);
          }
          const refused = await charge?.(contextValue, measure);
          if (refused) throw refused;
        },
      };
    },
  };
}

const costVariableNames = new WeakMap<DocumentNode, readonly string[]>();

/**
 * The variables a document's cost can depend on: those given to a `first` or `last` argument (see
 * {@link costEstimator}) or to `@skip`/`@include`. Other variables (ids, filters) leave it unchanged.
 */
export function costVariables(document: DocumentNode): readonly string[] {
  let names = costVariableNames.get(document);
  if (!names) {
    const found = new Set<string>();
    visit(document, {
      Field(node) {
        for (const argument of node.arguments ?? []) {
          if ((argument.name.value === 'first' || argument.name.value === 'last') && argument.value.kind === Kind.VARIABLE)
            found.add(argument.value.name.value);
        }
      },
      Directive(node) {
        if (node.name.value !== 'skip' && node.name.value !== 'include') return;
        for (const argument of node.arguments ?? []) if (argument.value.kind === Kind.VARIABLE) found.add(argument.value.name.value);
      },
    });
    names = [...found].sort();
    costVariableNames.set(document, names);
  }
  return names;
}

function limitError(code: ErrorCode, message: string, limit: number, measured: number): GraphQLError {
  return new GraphQLError(message, { extensions: { code, limit, measured, http: { status: 400 } } });
}

const INTROSPECTION_ROOTS: ReadonlySet<string> = new Set(['__schema', '__type']);

/**
 * The deepest field nesting of the operation, fragments expanded. Each fragment's depth is
 * computed once, so fragments spreading each other many times cost linear time.
 */
export function operationDepth(document: DocumentNode, operation: OperationDefinitionNode): number {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === 'FragmentDefinition') fragments.set(definition.name.value, definition);
  }
  const memo = new Map<string, number>();
  const visiting = new Set<string>();

  const depthOf = (selectionSet: SelectionSetNode | undefined): number => {
    if (!selectionSet) return 0;
    let deepest = 0;
    for (const selection of selectionSet.selections) {
      let depth = 0;
      switch (selection.kind) {
        case 'Field':
          depth = INTROSPECTION_ROOTS.has(selection.name.value) ? 0 : 1 + depthOf(selection.selectionSet);
          break;
        case 'InlineFragment':
          depth = depthOf(selection.selectionSet);
          break;
        case 'FragmentSpread': {
          const name = selection.name.value;
          const known = memo.get(name);
          const fragment = fragments.get(name);
          // A cycle or an unknown fragment fails validation before this runs; 0 keeps the walk finite.
          if (known !== undefined) depth = known;
          else if (!fragment || visiting.has(name)) depth = 0;
          else {
            visiting.add(name);
            depth = depthOf(fragment.selectionSet);
            visiting.delete(name);
            memo.set(name, depth);
          }
          break;
        }
      }
      deepest = Math.max(deepest, depth);
    }
    return deepest;
  };
  return depthOf(operation.selectionSet);
}

/** A Relay connection: an object type with `pageInfo` and `edges` or `nodes`. */
function isConnection(type: GraphQLNamedType): boolean {
  if (!isObjectType(type)) return false;
  const fields = type.getFields();
  return 'pageInfo' in fields && ('edges' in fields || 'nodes' in fields);
}

function pageSize(args: Record<string, unknown>): number | undefined {
  const sizes = [args['first'], args['last']].filter((value): value is number => typeof value === 'number' && Number.isFinite(value));
  return sizes.length === 0 ? undefined : Math.max(0, ...sizes);
}

/** Per costing: the weights of the fields of a connection object (`totalCount`) met since its last connection field. */
interface CostContext {
  connectionWork: number;
}

/** A field's declared scan weight (`extensions.complexity`): a number, or a function as fieldExtensionsEstimator calls it. */
function declaredComplexity(field: {
  readonly extensions?: Readonly<Record<string, unknown>> | null;
}): number | ((options: Parameters<ComplexityEstimator>[0]) => number | void) | undefined {
  const complexity = field.extensions?.['complexity'];
  return typeof complexity === 'number' || typeof complexity === 'function' ? (complexity as never) : undefined;
}

/**
 * Every field costs 1 plus what is selected inside it; a list (or a connection) multiplies the
 * inside by its size. `edges` and `nodes` of a connection are not multiplied again: the
 * connection field already was. Introspection lists count once: they hold the schema, not data.
 *
 * A field that declares a `complexity` (see {@link QUERY_COSTS}) is costed as graphql-query-complexity's
 * `fieldExtensionsEstimator` would: a number is the field's own cost (in place of 1), added to what is
 * selected inside it; a function gives the whole cost. On a connection object (`totalCount`) the number is added once to the connection
 * rather than multiplied by its page size: the statement runs once per connection. This needs the
 * context {@link queryCost} passes; without one it is multiplied (an overestimate).
 */
export const costEstimator: ComplexityEstimator = (options) => {
  const { type, field, args, childComplexity } = options;
  const context = options.context as CostContext | undefined;
  const named = getNamedType(field.type);
  if (type.name.startsWith('__') || named.name.startsWith('__')) return 1 + childComplexity;
  const declared = declaredComplexity(field);
  if (typeof declared === 'number' && context && isConnection(type)) {
    context.connectionWork += declared;
    return 1 + childComplexity;
  }
  if (typeof declared === 'number') return declared + childComplexity;
  if (typeof declared === 'function') {
    const cost = declared(options);
    if (typeof cost === 'number' && !Number.isNaN(cost)) return cost;
  }
  const connection = isConnection(named);
  const list = isListType(getNullableType(field.type));
  if ((!connection && !list) || (list && isConnection(type))) return 1 + childComplexity;
  const size = pageSize(args) ?? (connection ? DEFAULT_CONNECTION_COST_SIZE : DEFAULT_LIST_COST_SIZE);
  // The connection object's own fields were just costed (children before parents): their work is added once.
  const once = connection && context ? context.connectionWork : 0;
  if (connection && context) context.connectionWork = 0;
  return 1 + size * childComplexity + once;
};

/**
 * The cost of one operation of `document` as {@link enforceLimits} measures it (without the
 * limits): what tests and tools use to size their queries.
 */
export function queryCost(
  schema: GraphQLSchema,
  document: DocumentNode,
  variables: Readonly<Record<string, unknown>> = {},
  maxNodes = Number.MAX_SAFE_INTEGER,
): number {
  const context: CostContext = { connectionWork: 0 };
  return getComplexity({
    schema,
    query: document,
    variables: { ...variables },
    estimators: [costEstimator],
    maxQueryNodes: maxNodes,
    context,
  });
}

const TOO_MANY_NODES = 'Query exceeds the maximum allowed number of nodes';

function operationCost(
  schema: GraphQLSchema,
  document: DocumentNode,
  operation: OperationDefinitionNode,
  variables: Readonly<Record<string, unknown>> | undefined,
  maxNodes: number,
): number {
  // Only the resolved operation (and the fragments) is costed, not every operation of the document.
  const query: DocumentNode = {
    ...document,
    definitions: document.definitions.filter((definition) => definition === operation || definition.kind === 'FragmentDefinition'),
  };
  try {
    return queryCost(schema, query, variables, maxNodes);
  } catch (error) {
    if (error instanceof GraphQLError && error.message.startsWith(TOO_MANY_NODES)) {
      throw limitError(
        ErrorCode.QUERY_TOO_COMPLEX,
        `query has more than ${maxNodes} field selections once fragments are expanded`,
        maxNodes,
        maxNodes + 1,
      );
    }
    // Variables that do not fit their types: execution would refuse them the same way.
    if (error instanceof GraphQLError) throw clientError(ErrorCode.BAD_USER_INPUT, error.message, 400);
    throw error;
  }
}
