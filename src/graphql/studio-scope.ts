import {
  GraphQLID,
  defaultFieldResolver,
  getNamedType,
  isInputObjectType,
  isInterfaceType,
  isObjectType,
  type GraphQLArgument,
  type GraphQLFieldResolver,
  type GraphQLInputField,
  type GraphQLInputType,
  type GraphQLOutputType,
  type GraphQLSchema,
} from 'graphql';
import type { GraphQLContext } from '../api/context.js';
import { ErrorCode, clientError } from '../api/errors.js';
import type { Scope } from '../api/scope.js';

/**
 * Arguments and input fields that name studios of ours (`studioId`, `studioIds`, `filter.studioIds`,
 * and any later `…StudioId(s)`): every value is checked against the viewer's scope.
 */
export const STUDIO_ARGUMENT_NAME = /studioIds?$/i;

/** Where studio ids sit inside a field's arguments: `["studioIds"]`, `["filter", "studioIds"]`. */
export type StudioPath = readonly string[];

/**
 * The paths of studio ids inside arguments (through nested input objects, at any depth). An input
 * type that contains itself is followed once per path.
 */
export function studioPaths(args: readonly (GraphQLArgument | GraphQLInputField)[], seen: ReadonlySet<string> = new Set()): StudioPath[] {
  const paths: StudioPath[] = [];
  for (const arg of args) {
    const named = getNamedType(arg.type);
    if (STUDIO_ARGUMENT_NAME.test(arg.name)) {
      paths.push([arg.name]);
    } else if (isInputObjectType(named) && !seen.has(named.name)) {
      const inner = studioPaths(Object.values(named.getFields()), new Set([...seen, named.name]));
      for (const path of inner) paths.push([arg.name, ...path]);
    }
  }
  return paths;
}

/**
 * `args` with the studio ids at `path` read as numbers, after checking them: each an integer id
 * (BAD_USER_INPUT naming the argument otherwise: `ID` takes any string), each a studio `scope` may
 * see (FORBIDDEN otherwise — the one rule for every argument and filter: a studio outside the
 * token's scope is never answered with zeros, an empty list or a silent intersection). Lists of
 * input objects are read item by item. Studio ids are `ID` in the schema (GraphQL's type for
 * identifiers, so `1` and `"1"` are both accepted) and numbers everywhere behind it.
 */
export function readStudioIds(scope: Scope, args: Readonly<Record<string, unknown>>, path: StudioPath): Record<string, unknown> {
  const name = path.join('.');
  const read = (value: unknown, at: number): unknown => {
    if (value == null) return value;
    if (Array.isArray(value)) return value.map((item) => read(item, at));
    if (at === path.length) {
      const id = studioId(value, name);
      if (!scope.allows(id)) throw studioForbidden(name, id);
      return id;
    }
    if (typeof value !== 'object') return value;
    const key = path[at]!;
    if (!(key in value)) return value;
    // A copy: type-graphql builds its argument instances from this object, after us.
    return { ...(value as Record<string, unknown>), [key]: read((value as Record<string, unknown>)[key], at + 1) };
  };
  return read(args, 0) as Record<string, unknown>;
}

/** A studio id of an argument (a GraphQL `ID`: a string, or a number from a variable) as a number. */
function studioId(value: unknown, argument: string): number {
  const text = typeof value === 'number' ? String(value) : value;
  if (typeof text !== 'string' || !/^\d{1,15}$/.test(text)) {
    throw clientError(ErrorCode.BAD_USER_INPUT, `${argument}: expected a studio id (an integer such as "1"), got ${JSON.stringify(value)}`);
  }
  return Number(text);
}

/** The FORBIDDEN error for a studio outside the token's scope: the same message shape everywhere. */
export function studioForbidden(argument: string, studioId: number): Error {
  return clientError(ErrorCode.FORBIDDEN, `${argument}: this token may not see studio ${studioId}`);
}

/** `Type.field` coordinates whose studio arguments {@link enforceStudioScope} checks, per schema. */
const enforced = new WeakMap<GraphQLSchema, ReadonlyMap<string, readonly StudioPath[]>>();

/**
 * Wraps every field of `schema` that takes studio ids anywhere in its arguments (see
 * {@link studioPaths}) so that they are checked against the viewer's scope before the resolver runs
 * — for subscription fields before the stream opens. Fields without such arguments are untouched,
 * so this costs nothing elsewhere. Call once on the built schema.
 */
export function enforceStudioScope(schema: GraphQLSchema): void {
  requireIdTypedStudioIds(schema);
  const found = new Map<string, readonly StudioPath[]>();
  const subscriptionType = schema.getSubscriptionType();
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith('__')) continue;
    for (const field of Object.values(type.getFields())) {
      const paths = studioPaths(field.args);
      if (paths.length === 0) continue;
      found.set(`${type.name}.${field.name}`, paths);
      const guard = (args: Record<string, unknown>, context: GraphQLContext) => {
        for (const path of paths) args = readStudioIds(context.scope, args, path);
        return args;
      };
      if (type === subscriptionType && field.subscribe) {
        const subscribe: GraphQLFieldResolver<unknown, GraphQLContext> = field.subscribe;
        field.subscribe = (source, args, context, info) => subscribe(source, guard(args, context), context, info);
      }
      // For a subscription field, each event is resolved with the arguments again: read as numbers
      // there too (a group's context has the scope of every subscriber in it). A planned group's
      // events skip this: subscribe checked the same arguments (subscription-planner.ts).
      const resolve: GraphQLFieldResolver<unknown, GraphQLContext> = field.resolve ?? defaultFieldResolver;
      field.resolve = (source, args, context, info) => resolve(source, guard(args, context), context, info);
    }
  }
  enforced.set(schema, found);
  // The schema says so wherever studios are named (schema.graphql is emitted from this schema).
  const describe = (target: { name: string; description?: string | null | undefined }) => {
    if (!STUDIO_ARGUMENT_NAME.test(target.name) || target.description?.includes(OUT_OF_SCOPE)) return;
    target.description = target.description ? `${target.description} ${OUT_OF_SCOPE}` : OUT_OF_SCOPE;
  };
  for (const type of Object.values(schema.getTypeMap())) {
    if (type.name.startsWith('__')) continue;
    if (isInputObjectType(type)) for (const field of Object.values(type.getFields())) describe(field);
    if (isObjectType(type)) for (const field of Object.values(type.getFields())) for (const arg of field.args) describe(arg);
  }
}

/**
 * Throws unless every studio id of the schema — `Studio.id`, and every field, argument and input
 * field named like `studioId(s)` or `…StudioId(s)` — is an `ID`: one type for one kind of value,
 * so that a client's `$studio: ID` fits every place (and {@link readStudioIds} sees every argument).
 */
export function requireIdTypedStudioIds(schema: GraphQLSchema): void {
  const wrong: string[] = [];
  const check = (coordinate: string, type: GraphQLInputType | GraphQLOutputType) => {
    if (getNamedType(type) !== GraphQLID) wrong.push(`${coordinate}: ${String(type)}`);
  };
  const studio = schema.getType('Studio');
  if (isObjectType(studio)) check('Studio.id', studio.getFields()['id']!.type);
  for (const type of Object.values(schema.getTypeMap())) {
    if (type.name.startsWith('__')) continue;
    if (isInputObjectType(type)) {
      for (const field of Object.values(type.getFields()))
        if (STUDIO_ARGUMENT_NAME.test(field.name)) check(`${type.name}.${field.name}`, field.type);
    }
    if (isObjectType(type) || isInterfaceType(type)) {
      for (const field of Object.values(type.getFields())) {
        if (STUDIO_ARGUMENT_NAME.test(field.name)) check(`${type.name}.${field.name}`, field.type);
        for (const arg of field.args) if (STUDIO_ARGUMENT_NAME.test(arg.name)) check(`${type.name}.${field.name}(${arg.name})`, arg.type);
      }
    }
  }
  if (wrong.length > 0) throw new Error(`studio ids must be of type ID everywhere in the schema; not so: ${wrong.join(', ')}`);
}

/** What the schema's descriptions say about studio arguments. */
const OUT_OF_SCOPE = 'A studio this token may not see is FORBIDDEN (never an empty answer).';

/** The fields {@link enforceStudioScope} guards on `schema`, with the paths it checks (for tests and review). */
export function studioScopedFields(schema: GraphQLSchema): ReadonlyMap<string, readonly StudioPath[]> {
  return enforced.get(schema) ?? new Map();
}
