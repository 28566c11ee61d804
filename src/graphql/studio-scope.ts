import {
  defaultFieldResolver,
  getNamedType,
  isInputObjectType,
  isObjectType,
  type GraphQLArgument,
  type GraphQLFieldResolver,
  type GraphQLInputField,
  type GraphQLSchema,
} from 'graphql';
import type { GraphQLContext } from './context.js';
import { ErrorCode, clientError } from './errors.js';
import type { Scope } from './scope.js';

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
 * FORBIDDEN unless every studio named at `path` of `args` is one `scope` may see: the one rule for
 * every argument and filter (a studio outside the token's scope is never answered with zeros, an
 * empty list or a silent intersection). Lists of input objects are checked item by item.
 */
export function requireStudiosInScope(scope: Scope, args: Readonly<Record<string, unknown>>, path: StudioPath): void {
  if (scope.unrestricted) return;
  const check = (value: unknown, at: number): void => {
    if (value == null) return;
    if (Array.isArray(value)) {
      for (const item of value) check(item, at);
      return;
    }
    if (at === path.length) {
      if (typeof value === 'number' && !scope.allows(value)) throw studioForbidden(path.join('.'), value);
      return;
    }
    if (typeof value === 'object') check((value as Record<string, unknown>)[path[at]!], at + 1);
  };
  check(args[path[0]!], 1);
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
  const found = new Map<string, readonly StudioPath[]>();
  const subscriptionType = schema.getSubscriptionType();
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith('__')) continue;
    for (const field of Object.values(type.getFields())) {
      const paths = studioPaths(field.args);
      if (paths.length === 0) continue;
      found.set(`${type.name}.${field.name}`, paths);
      const guard = (args: Record<string, unknown>, context: GraphQLContext) => {
        for (const path of paths) requireStudiosInScope(context.scope, args, path);
      };
      if (type === subscriptionType && field.subscribe) {
        const subscribe: GraphQLFieldResolver<unknown, GraphQLContext> = field.subscribe;
        field.subscribe = (source, args, context, info) => {
          guard(args, context);
          return subscribe(source, args, context, info);
        };
      } else {
        const resolve: GraphQLFieldResolver<unknown, GraphQLContext> = field.resolve ?? defaultFieldResolver;
        field.resolve = (source, args, context, info) => {
          guard(args, context);
          return resolve(source, args, context, info);
        };
      }
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

/** What the schema's descriptions say about studio arguments. */
const OUT_OF_SCOPE = 'A studio this token may not see is FORBIDDEN (never an empty answer).';

/** The fields {@link enforceStudioScope} guards on `schema`, with the paths it checks (for tests and review). */
export function studioScopedFields(schema: GraphQLSchema): ReadonlyMap<string, readonly StudioPath[]> {
  return enforced.get(schema) ?? new Map();
}
