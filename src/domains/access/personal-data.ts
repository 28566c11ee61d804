import {
  defaultFieldResolver,
  getNamedType,
  isInputObjectType,
  isNonNullType,
  isObjectType,
  type GraphQLArgument,
  type GraphQLFieldResolver,
  type GraphQLInputField,
  type GraphQLSchema,
} from 'graphql';
import { Extensions } from 'type-graphql';
import type { GraphQLContext } from '../../api/context.js';
import { ErrorCode, clientError } from '../../api/errors.js';

/** The field extension that marks personal data (set by {@link PersonalData}). */
const PERSONAL_DATA_EXTENSION = 'personalData';

/** What the schema's descriptions say of every personal field and input field (schema.graphql is emitted from the schema). */
export const PERSONAL_DATA_NOTE =
  'Needs the personalData permission: a token without it gets PERSONAL_DATA_FORBIDDEN for this field alone (the rest of the answer still comes).';

/**
 * Marks a GraphQL field (of an object type, or a field resolver) or an input field as personal data:
 * names, contact details, address, birth date, anything that identifies or describes a person.
 * {@link guardPersonalData} then refuses it, field by field, to a viewer without `personalData`
 * (a partner token without the permission) — in queries, nested relations and subscriptions alike,
 * since all of them resolve the same field. On an input field (a filter, a search), using it at all
 * is refused, so that it cannot be used to infer what it would match. Personal fields must be
 * nullable (a refused one is null with an error, and its parent stays).
 *
 * Where neither fits (an enum value that orders or groups by a personal column, a computed
 * answer), call {@link requirePersonalData} in the resolver.
 */
export function PersonalData(): PropertyDecorator & MethodDecorator {
  return Extensions({ [PERSONAL_DATA_EXTENSION]: true }) as PropertyDecorator & MethodDecorator;
}

/** The error for a personal field (or argument) a viewer may not use; `what` names it (`Customer.email`, `filter.lastName`). */
export function personalDataForbidden(what: string): Error {
  return clientError(
    ErrorCode.PERSONAL_DATA_FORBIDDEN,
    `${what} is personal data: this token may not read it (partner tokens need the personalData permission)`,
  );
}

/** Throws PERSONAL_DATA_FORBIDDEN unless the viewer may read personal data. The one check every guard uses. */
export function requirePersonalData(context: Pick<GraphQLContext, 'viewer'>, what: string): void {
  if (!context.viewer.personalData) throw personalDataForbidden(what);
}

const isMarked = (target: { extensions?: Readonly<Record<string, unknown>> | null | undefined }) =>
  target.extensions?.[PERSONAL_DATA_EXTENSION] === true;

/** Where personal input fields sit inside a field's arguments: `["filter", "lastName"]`, at any depth. */
function personalPaths(args: readonly (GraphQLArgument | GraphQLInputField)[], seen: ReadonlySet<string> = new Set()): string[][] {
  const paths: string[][] = [];
  for (const arg of args) {
    const named = getNamedType(arg.type);
    if (isMarked(arg)) paths.push([arg.name]);
    else if (isInputObjectType(named) && !seen.has(named.name)) {
      for (const path of personalPaths(Object.values(named.getFields()), new Set([...seen, named.name]))) paths.push([arg.name, ...path]);
    }
  }
  return paths;
}

/** True when `args` holds a value (not null) at `path`; lists of input objects are looked into item by item. */
function given(value: unknown, path: readonly string[]): boolean {
  if (value == null) return false;
  if (path.length === 0) return true;
  if (Array.isArray(value)) return value.some((item) => given(item, path));
  if (typeof value !== 'object') return false;
  return given((value as Record<string, unknown>)[path[0]!], path.slice(1));
}

interface Guarded {
  /** `Type.field` of every personal output field. */
  readonly fields: readonly string[];
  /** `Type.field(path)` of every field whose arguments reach a personal input field. */
  readonly arguments: readonly string[];
}

const guarded = new WeakMap<GraphQLSchema, Guarded>();

/**
 * Wraps every field marked {@link PersonalData} so that it is refused before its resolver runs
 * to a viewer without `personalData`, and every field whose arguments reach a marked input field so
 * that giving one is refused the same way. Adds {@link PERSONAL_DATA_NOTE} to their descriptions.
 * Throws when a marked field is non-null. Call once on the built schema.
 */
export function guardPersonalData(schema: GraphQLSchema): void {
  const fields: string[] = [];
  const argumentsFound: string[] = [];
  const note = (target: { description?: string | null | undefined }) => {
    if (!target.description?.includes(PERSONAL_DATA_NOTE))
      target.description = target.description ? `${target.description} ${PERSONAL_DATA_NOTE}` : PERSONAL_DATA_NOTE;
  };
  for (const type of Object.values(schema.getTypeMap())) {
    if (type.name.startsWith('__')) continue;
    if (isInputObjectType(type)) for (const field of Object.values(type.getFields())) if (isMarked(field)) note(field);
    if (!isObjectType(type)) continue;
    for (const field of Object.values(type.getFields())) {
      const coordinate = `${type.name}.${field.name}`;
      if (isMarked(field)) {
        if (isNonNullType(field.type))
          throw new Error(`${coordinate} is marked as personal data but is non-null: a refused value must be able to be null`);
        fields.push(coordinate);
        note(field);
        const resolve: GraphQLFieldResolver<unknown, GraphQLContext> = field.resolve ?? defaultFieldResolver;
        field.resolve = (source, args, context, info) => {
          requirePersonalData(context, coordinate);
          return resolve(source, args, context, info);
        };
      }
      const paths = personalPaths(field.args);
      if (paths.length === 0) continue;
      for (const path of paths) argumentsFound.push(`${coordinate}(${path.join('.')})`);
      const check = (args: Record<string, unknown>, context: GraphQLContext) => {
        if (context.viewer.personalData) return;
        const used = paths.find((path) => given(args, path));
        if (used) throw personalDataForbidden(used.join('.'));
      };
      if (field.subscribe) {
        const subscribe: GraphQLFieldResolver<unknown, GraphQLContext> = field.subscribe;
        field.subscribe = (source, args, context, info) => {
          check(args, context);
          return subscribe(source, args, context, info);
        };
      }
      const resolve: GraphQLFieldResolver<unknown, GraphQLContext> = field.resolve ?? defaultFieldResolver;
      field.resolve = (source, args, context, info) => {
        check(args, context);
        return resolve(source, args, context, info);
      };
    }
  }
  guarded.set(schema, { fields, arguments: argumentsFound });
}

/** What {@link guardPersonalData} guards on `schema` (for tests and review). */
export function personalDataGuards(schema: GraphQLSchema): Guarded {
  return guarded.get(schema) ?? { fields: [], arguments: [] };
}
