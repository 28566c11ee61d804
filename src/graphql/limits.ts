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
   * Highest estimated cost allowed, roughly the number of values the answer can hold: every field
   * costs 1, and a list multiplies what is selected inside it by its size — `first` or `last` when
   * given, otherwise {@link DEFAULT_CONNECTION_COST_SIZE} for a connection and
   * {@link DEFAULT_LIST_COST_SIZE} for any other list.
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
export function queryLimitsPlugin<TContext extends object>(limits: QueryLimits = {}): ApolloServerPlugin<TContext> {
  const measures = new WeakMap<DocumentNode, Map<string, QueryMeasure>>();
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ schema, document, operation, request }) {
          // Apollo answers OPERATION_RESOLUTION_FAILURE itself before this hook when none resolves.
          if (!operation) return;
          let known = measures.get(document);
          if (!known) {
            known = new Map();
            measures.set(document, known);
          }
          const variables = request.variables ?? {};
          const key = `${operation.name?.value ?? ''}\0${JSON.stringify(costVariables(document).map((name) => variables[name]))}`;
          if (known.has(key)) return;
          const measure = enforceLimits(schema, document, operation, request.variables, limits);
          if (known.size >= MEASURES_PER_DOCUMENT) known.clear();
          known.set(key, measure);
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
          if ((argument.name.value === 'first' || argument.name.value === 'last') && argument.value.kind === Kind.VARIABLE) found.add(argument.value.name.value);
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

/**
 * Every field costs 1 plus what is selected inside it; a list (or a connection) multiplies the
 * inside by its size. `edges` and `nodes` of a connection are not multiplied again: the
 * connection field already was. Introspection lists count once: they hold the schema, not data.
 */
export const costEstimator: ComplexityEstimator = ({ type, field, args, childComplexity }) => {
  const named = getNamedType(field.type);
  if (type.name.startsWith('__') || named.name.startsWith('__')) return 1 + childComplexity;
  const connection = isConnection(named);
  const list = isListType(getNullableType(field.type));
  if ((!connection && !list) || (list && isConnection(type))) return 1 + childComplexity;
  const size = pageSize(args) ?? (connection ? DEFAULT_CONNECTION_COST_SIZE : DEFAULT_LIST_COST_SIZE);
  return 1 + size * childComplexity;
};

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
    return getComplexity({ schema, query, variables: { ...variables }, estimators: [costEstimator], maxQueryNodes: maxNodes });
  } catch (error) {
    if (error instanceof GraphQLError && error.message.startsWith(TOO_MANY_NODES)) {
      throw limitError(ErrorCode.QUERY_TOO_COMPLEX, `query has more than ${maxNodes} field selections once fragments are expanded`, maxNodes, maxNodes + 1);
    }
    // Variables that do not fit their types: execution would refuse them the same way.
    if (error instanceof GraphQLError) throw clientError(ErrorCode.BAD_USER_INPUT, error.message, 400);
    throw error;
  }
}
