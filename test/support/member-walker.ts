import {
  astFromValue,
  getNamedType,
  getNullableType,
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isLeafType,
  isListType,
  isNonNullType,
  isObjectType,
  isRequiredArgument,
  isScalarType,
  isUnionType,
  parse,
  print,
  type GraphQLArgument,
  type GraphQLField,
  type GraphQLInputType,
  type GraphQLNamedType,
  type GraphQLSchema,
} from 'graphql';
import { DEFAULT_MAX_COST, queryCost } from '../../src/api/limits.js';
import { MAX_PAGE_SIZE } from '../../src/api/pagination.js';

/**
 * Operations generated from a schema, for the member access test (test/access-member.test.ts):
 * every root field with every way its arguments can point at someone else's data, and a selection
 * that reaches every nested relation of its type two levels down. Fields added to the schema are
 * walked without changing this file.
 */

/** What the walker fills arguments with. */
export interface WalkValues {
  /** Studios to point `studioId(s)` arguments at (the member's, and another). */
  readonly studios: readonly number[];
  /** Upstream ids of everyone, for filters such as `customerIds`. */
  readonly upstreamIds: readonly number[];
  /** Lookups by our id try 1..maxId. */
  readonly maxId: number;
  /** Both ends of time ranges. */
  readonly range: { readonly from: string; readonly to: string };
}

/** A Relay connection's node type (`pageInfo` and `nodes`), if `type` is one. */
export function connectionNode(type: GraphQLNamedType): GraphQLNamedType | undefined {
  if (!isObjectType(type)) return undefined;
  const fields = type.getFields();
  return fields.pageInfo && fields.nodes ? getNamedType(fields.nodes.type) : undefined;
}

export const isDateScalar = (type: GraphQLNamedType) => isScalarType(type) && /date|time/i.test(type.name);
export const isIdLike = (type: GraphQLNamedType) => isScalarType(type) && (type.name === 'ID' || type.name === 'Int');

/** A value for a required input of `type`: id-like scalars get `id`, time ranges span `range` (both ends, even where optional). */
export function fill(type: GraphQLInputType, name: string, id: number | string, range: WalkValues['range']): unknown {
  const nullable = getNullableType(type);
  if (isListType(nullable)) return [fill(nullable.ofType, name, id, range)];
  const named = getNamedType(type);
  if (isDateScalar(named)) return /^(to|until|end|before)$/i.test(name) ? range.to : range.from;
  if (isEnumType(named)) return named.getValues()[0]!.value;
  if (isInputObjectType(named)) {
    const value: Record<string, unknown> = {};
    for (const field of Object.values(named.getFields())) {
      if ((isNonNullType(field.type) && field.defaultValue === undefined) || isDateScalar(getNamedType(field.type)))
        value[field.name] = fill(field.type, field.name, id, range);
    }
    return value;
  }
  if (isScalarType(named)) {
    if (named.name === 'ID' || named.name === 'String') return String(id);
    if (named.name === 'Int' || named.name === 'Float') return Number(id);
    if (named.name === 'Boolean') return false;
    return {};
  }
  return null;
}

export function printArgs(args: readonly GraphQLArgument[], values: Record<string, unknown>): string {
  const parts = args
    .filter((arg) => values[arg.name] !== undefined)
    .map((arg) => `${arg.name}: ${print(astFromValue(values[arg.name], arg.type)!)}`);
  return parts.length === 0 ? '' : `(${parts.join(', ')})`;
}

const requiredArgs = (field: GraphQLField<unknown, unknown>, values: WalkValues) =>
  printArgs(
    field.args,
    Object.fromEntries(
      field.args.filter(isRequiredArgument).map((arg) => [arg.name, fill(arg.type, arg.name, values.studios[0]!, values.range)]),
    ),
  );

/** Scalar fields; `prefix` aliases them (members of a union may have same-named fields of different types). */
export function leaves(type: GraphQLNamedType, prefix = ''): string {
  if (isUnionType(type)) return unionSelection(type, (member) => leaves(member, `${member.name}_`));
  if (!isObjectType(type) && !isInterfaceType(type)) return '';
  const names = Object.values(type.getFields())
    .filter((field) => isLeafType(getNamedType(field.type)) && !field.args.some(isRequiredArgument))
    .map((field) => field.name);
  return names.length === 0 ? '__typename' : names.map((name) => (prefix === '' ? name : `${prefix}${name}: ${name}`)).join(' ');
}

function unionSelection(type: GraphQLNamedType, member: (type: GraphQLNamedType) => string): string {
  if (!isUnionType(type)) return '';
  return `__typename ${type
    .getTypes()
    .map((m) => `... on ${m.name} { ${member(m)} }`)
    .join(' ')}`;
}

/** Every scalar field, and every nested object, list and connection `depth` levels down. */
export function selection(type: GraphQLNamedType, depth: number, values: WalkValues, prefix = ''): string {
  if (isUnionType(type)) return unionSelection(type, (member) => selection(member, depth, values, `${member.name}_`));
  if (!isObjectType(type) && !isInterfaceType(type)) return '';
  const parts = [leaves(type, prefix)];
  if (depth === 0) return parts.join(' ');
  for (const field of Object.values(type.getFields())) {
    const named = getNamedType(field.type);
    if (isLeafType(named)) continue;
    const node = connectionNode(named);
    const inner = node ? `totalCount nodes { ${selection(node, depth - 1, values)} }` : selection(named, depth - 1, values);
    parts.push(`${prefix === '' ? '' : `${prefix}${field.name}: `}${field.name}${requiredArgs(field, values)} { ${inner} }`);
  }
  return parts.join(' ');
}

export interface Probe {
  /** `Query.customers`, `Subscription.customerCheckedIn`. */
  readonly coordinate: string;
  readonly field: string;
  readonly connection: boolean;
  readonly lookup: boolean;
  /** Argument sets to try (page arguments excluded). */
  readonly variants: readonly Record<string, unknown>[];
  /** One aliased call, with a selection `depth` levels deep. */
  readonly call: (alias: string, values: Record<string, unknown>, depth: number, page?: { first: number; after: string | null }) => string;
}

const PAGE_ARGS = new Set(['first', 'last', 'after', 'before']);

/** Options for one argument besides leaving it out: studios each, enums each, filters at everyone's ids. */
function argumentChoices(arg: GraphQLArgument, values: WalkValues, lookupIds: boolean): { values: unknown[]; optional: boolean } {
  const optional = !isRequiredArgument(arg);
  const named = getNamedType(arg.type);
  const list = isListType(getNullableType(arg.type));
  if (/studioIds?$/i.test(arg.name) && isIdLike(named)) {
    return {
      values: list ? [...values.studios.map((s) => [String(s)]), values.studios.map(String)] : values.studios.map(String),
      optional,
    };
  }
  if (/(customer|booking|contract|slot|class)Ids$/i.test(arg.name) && list) return { values: [values.upstreamIds.map(String)], optional };
  if (isEnumType(named)) return { values: named.getValues().map((value) => (list ? [value.value] : value.value)), optional };
  if (optional && isInputObjectType(named)) {
    const found: unknown[] = [];
    for (const field of Object.values(named.getFields())) {
      const fieldNamed = getNamedType(field.type);
      if (!isListType(getNullableType(field.type)) || !isIdLike(fieldNamed)) continue;
      const sets = /studioIds$/i.test(field.name) ? values.studios.map((s) => [s]) : [values.upstreamIds];
      for (const set of sets) found.push({ [field.name]: fieldNamed.name === 'ID' ? set.map(String) : set.map(Number) });
    }
    return { values: found, optional };
  }
  if (optional) return { values: [], optional };
  if (isIdLike(named) && !list && lookupIds)
    return { values: Array.from({ length: values.maxId }, (_, i) => fill(arg.type, arg.name, i + 1, values.range)), optional };
  return { values: [fill(arg.type, arg.name, values.studios[0]!, values.range)], optional };
}

/** A probe per field of a root type (`Query` or `Subscription`). */
export function rootProbes(schema: GraphQLSchema, root: 'Query' | 'Subscription', values: WalkValues): Probe[] {
  const type = root === 'Query' ? schema.getQueryType() : schema.getSubscriptionType();
  if (!type) return [];
  return Object.values(type.getFields()).map((field) => {
    const named = getNamedType(field.type);
    const node = connectionNode(named);
    const connection = root === 'Query' && node !== undefined && field.args.some((arg) => arg.name === 'first');
    // Subscriptions resume from the start of the log (`after: "0"`), set by the caller.
    const args = field.args.filter((arg) => !(connection && PAGE_ARGS.has(arg.name)) && !(root === 'Subscription' && arg.name === 'after'));
    const lookup =
      root === 'Query' && !connection && args.length === 1 && isRequiredArgument(args[0]!) && isIdLike(getNamedType(args[0]!.type));
    const base: Record<string, unknown> = {};
    const choices = args.map((arg) => ({ arg, ...argumentChoices(arg, values, lookup) }));
    for (const choice of choices) if (!choice.optional) base[choice.arg.name] = choice.values[0];
    const variants: Record<string, unknown>[] = [{ ...base }];
    for (const choice of choices)
      for (const value of choice.values.slice(choice.optional ? 0 : 1)) variants.push({ ...base, [choice.arg.name]: value });
    return {
      coordinate: `${root}.${field.name}`,
      field: field.name,
      connection,
      lookup,
      variants,
      call: (alias, argValues, depth, page) => {
        const inner = connection
          ? `totalCount pageInfo { hasNextPage endCursor } nodes { ${selection(node!, depth, values)} }`
          : selection(named, depth, values);
        const printed = printArgs(args, argValues).slice(1, -1);
        const pageArgs = page ? `first: ${page.first}${page.after === null ? '' : `, after: ${JSON.stringify(page.after)}`}` : '';
        const after = root === 'Subscription' && field.args.some((arg) => arg.name === 'after') ? 'after: "0"' : '';
        const all = [printed, pageArgs, after].filter((part) => part !== '').join(', ');
        return `${alias}: ${field.name}${all === '' ? '' : `(${all})`}${inner === '' ? '' : ` { ${inner} }`}`;
      },
    };
  });
}

/** One argument set's answer. */
export interface Outcome {
  readonly data: unknown;
  readonly errors: readonly string[];
}

export interface Answer {
  readonly data?: Record<string, unknown> | null;
  readonly errors?: { message: string; path?: unknown[]; extensions?: { code?: string } }[];
}

/** POST /graphql with `token`. */
export async function graphql(url: string, token: string, query: string): Promise<Answer> {
  const response = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query }),
  });
  return (await response.json()) as Answer;
}

/** The deepest selection (2, else 1, else 0) whose cost fits the limit with `first: 1`. */
export function depthFor(schema: GraphQLSchema, probe: Probe, values: Record<string, unknown>): number {
  const fits = (depth: number) =>
    queryCost(schema, parse(`{ ${probe.call('v', values, depth, probe.connection ? { first: 1, after: null } : undefined)} }`)) <=
    DEFAULT_MAX_COST;
  return [2, 1].find(fits) ?? 0;
}

/** Every variant of a Query probe over HTTP, connections read page by page to the end. */
export async function runQueryProbe(schema: GraphQLSchema, url: string, token: string, probe: Probe): Promise<Outcome[]> {
  const errorsOf = (answer: Answer) => (answer.errors ?? []).map((e) => `${e.extensions?.code}: ${e.message}`);
  const outcomes: Outcome[] = [];
  for (const values of probe.variants) {
    const depth = depthFor(schema, probe, values);
    if (!probe.connection) {
      const answer = await graphql(url, token, `{ ${probe.call('v', values, depth)} }`);
      outcomes.push({ data: answer.data?.['v'] ?? null, errors: errorsOf(answer) });
      continue;
    }
    outcomes.push(
      await readConnection(
        schema,
        (page) => `{ ${probe.call('v', values, depth, page)} }`,
        (query) => graphql(url, token, query),
        errorsOf,
      ),
    );
  }
  return outcomes;
}

/**
 * A connection (aliased `v`) read to its end: the largest page size whose cost fits the limit, then
 * page after page (at most 50), as one outcome with every node and the errors of every page.
 */
export async function readConnection(
  schema: GraphQLSchema,
  query: (page: { first: number; after: string | null }) => string,
  ask: (query: string) => Promise<Answer>,
  errorsOf: (answer: Answer) => string[],
): Promise<Outcome> {
  const size = [MAX_PAGE_SIZE, 50, 20, 10, 5, 2, 1].find(
    (first) => queryCost(schema, parse(query({ first, after: null }))) <= DEFAULT_MAX_COST,
  )!;
  const nodes: unknown[] = [];
  const errors: string[] = [];
  let totalCount: unknown = null;
  for (let after: string | null = null, pages = 0; ; pages += 1) {
    if (pages > 50) throw new Error(`more than 50 pages: ${query({ first: size, after: null }).slice(0, 80)}`);
    const answer = await ask(query({ first: size, after }));
    errors.push(...errorsOf(answer));
    const page = answer.data?.['v'] as
      { totalCount: number; pageInfo: { hasNextPage: boolean; endCursor: string | null }; nodes: unknown[] } | null | undefined;
    if (!page) break;
    totalCount = page.totalCount;
    nodes.push(...page.nodes);
    if (!page.pageInfo.hasNextPage || page.pageInfo.endCursor === null) break;
    after = page.pageInfo.endCursor;
  }
  return { data: { totalCount, nodes }, errors };
}
