import {
  astFromValue,
  getNamedType,
  isInputObjectType,
  isInterfaceType,
  isLeafType,
  isObjectType,
  isRequiredArgument,
  isScalarType,
  isUnionType,
  print,
  type GraphQLArgument,
  type GraphQLField,
  type GraphQLInputType,
  type GraphQLNamedType,
  type GraphQLObjectType,
  type GraphQLSchema,
} from 'graphql';
import { fill } from './member-walker.js';

/**
 * Walks a schema (built from introspection, so it sees what clients see) to find how every root
 * field reaches a set of target fields — `Customer.email` and the like — and writes the operations
 * that ask for them along every relation. Used by the access tests (partner: test/access-partner,
 * member: test/access-member): a field added later is covered without touching them.
 */

/** `Type.field` coordinates. */
export type Coordinate = string;

/** Fields whose description contains `marker` (e.g. the sentence every personal field carries). */
export function fieldsDescribedWith(schema: GraphQLSchema, marker: string): Set<Coordinate> {
  const found = new Set<Coordinate>();
  for (const type of Object.values(schema.getTypeMap())) {
    if (type.name.startsWith('__') || !(isObjectType(type) || isInterfaceType(type) || isInputObjectType(type))) continue;
    for (const field of Object.values(type.getFields())) if (field.description?.includes(marker)) found.add(`${type.name}.${field.name}`);
  }
  return found;
}

/** Every field and input field whose name matches `pattern` (to catch a personal field nobody marked). */
export function fieldsNamedLike(schema: GraphQLSchema, pattern: RegExp): Set<Coordinate> {
  const found = new Set<Coordinate>();
  for (const type of Object.values(schema.getTypeMap())) {
    if (type.name.startsWith('__') || !(isObjectType(type) || isInterfaceType(type) || isInputObjectType(type))) continue;
    for (const field of Object.values(type.getFields())) if (pattern.test(field.name)) found.add(`${type.name}.${field.name}`);
  }
  return found;
}

/** Concrete object types a field's named type stands for (itself, or a union's or interface's members). */
function concrete(schema: GraphQLSchema, type: GraphQLNamedType): readonly GraphQLObjectType[] {
  if (isObjectType(type)) return [type];
  if (isUnionType(type) || isInterfaceType(type)) return schema.getPossibleTypes(type);
  return [];
}

/** One step: a field of `from`, landing (through a fragment when abstract) on `to`. */
interface Step {
  readonly from: GraphQLObjectType;
  readonly field: GraphQLField<unknown, unknown>;
  readonly to: GraphQLObjectType;
  /** The field's type is abstract: select `... on To` under it. */
  readonly fragment: boolean;
}

/** A value for a required input (`id` for ids, a wide time range for dates, the first enum value). */
export type ArgumentFiller = (arg: GraphQLArgument, field: Coordinate) => unknown;

export interface WalkOptions {
  /** Fields to reach. */
  readonly targets: ReadonlySet<Coordinate>;
  /** Page size for every list argument named `first`. @default 5 */
  readonly first?: number;
  /** Values for lookups by id (`customer(id: ...)`): one operation per id. @default [1, 2, 3] */
  readonly lookupIds?: readonly (string | number)[];
  /** Values for the other required arguments; the default fills them by type. */
  readonly fill?: ArgumentFiller;
  /** Values for optional arguments of root fields, by name (e.g. `{ after: "0" }` to replay subscriptions). */
  readonly rootArguments?: Readonly<Record<string, unknown>>;
  /** Relation steps at most between a root field and a target's type. @default 4 */
  readonly maxSteps?: number;
  /**
   * Whether an operation is within the server's limits (cost); one that is not is split into one
   * operation per relation. @default always
   */
  readonly fits?: (query: string) => boolean;
}

/** An operation asking one root field for every target it can reach. */
export interface WalkedOperation {
  readonly kind: 'query' | 'subscription';
  readonly rootField: string;
  /** The targets it selects (`Customer.email`, ...). */
  readonly targets: readonly Coordinate[];
  /** The relations it goes through on the way (`Query.contracts`, `Contract.customer`, ...). */
  readonly relations: readonly Coordinate[];
  readonly query: string;
}

/** A selection trie: field (with its printed arguments and fragment) -> what is selected under it. */
interface Node {
  readonly children: Map<string, Node>;
  readonly leaves: Set<string>;
}
const node = (): Node => ({ children: new Map(), leaves: new Set() });

/** Time ranges the walk asks for: wide enough for any data a test posts. */
const WIDE_RANGE = { from: '2000-01-01T00:00:00.000Z', to: '2100-01-01T00:00:00.000Z' } as const;

/** A value for a required argument, by type: ids -> the first lookup id, dates -> a wide range (member-walker's {@link fill}). */
export function defaultFill(arg: GraphQLArgument | { name: string; type: GraphQLInputType }, id: string | number = 1): unknown {
  return fill(arg.type, arg.name, id, WIDE_RANGE);
}

const printValue = (value: unknown, type: GraphQLInputType) => print(astFromValue(value, type)!);

/** Leaves of a target's type (recursively for small objects such as an address), or nothing for a leaf. */
function targetSelection(type: GraphQLNamedType, depth = 0): string {
  if (isLeafType(type)) return '';
  if (!isObjectType(type) || depth > 2) return ' { __typename }';
  const parts = ['__typename'];
  for (const field of Object.values(type.getFields())) {
    if (field.args.some(isRequiredArgument)) continue;
    parts.push(`${field.name}${targetSelection(getNamedType(field.type), depth + 1)}`);
  }
  return ` { ${parts.join(' ')} }`;
}

/**
 * For every root field of `kind` that reaches a target (through up to `maxSteps` relations), one
 * operation selecting every target it can reach through every relation into a type that has
 * targets (each along the shortest way to the relation), with `__typename` at each level. Root lookups by id get one alias per lookup id.
 */
export function operationsReaching(schema: GraphQLSchema, kind: 'query' | 'subscription', options: WalkOptions): WalkedOperation[] {
  const { targets, first = 5, lookupIds = [1, 2, 3], fill, rootArguments = {}, maxSteps = 4, fits = () => true } = options;
  const root = kind === 'query' ? schema.getQueryType() : schema.getSubscriptionType();
  if (!root) return [];
  const targetsOf = (type: GraphQLObjectType) => Object.values(type.getFields()).filter((f) => targets.has(`${type.name}.${f.name}`));

  const argsOf = (from: GraphQLObjectType, field: GraphQLField<unknown, unknown>, atRoot: boolean, id?: string | number): string => {
    const parts: string[] = [];
    for (const arg of field.args) {
      const coordinate = `${from.name}.${field.name}`;
      let value: unknown;
      if (arg.name === 'first' && isScalarType(getNamedType(arg.type))) value = first;
      else if (isRequiredArgument(arg))
        value = id !== undefined && /^(id|seq)$/i.test(arg.name) ? String(id) : (fill ?? ((a) => defaultFill(a)))(arg, coordinate);
      else if (atRoot && arg.name in rootArguments) value = rootArguments[arg.name];
      if (value !== undefined) parts.push(`${arg.name}: ${printValue(value, arg.type)}`);
    }
    return parts.length === 0 ? '' : `(${parts.join(', ')})`;
  };

  const operations: WalkedOperation[] = [];
  for (const rootField of Object.values(root.getFields())) {
    // Breadth first from this root field: the shortest way to every object type within maxSteps,
    // and through it every relation into a type that has targets (so `Visit.customer` is taken even
    // though `Customer` was reached earlier through `nodes`).
    const hasTargets = (type: GraphQLObjectType) => targetsOf(type).length > 0;
    const way = new Map<string, readonly Step[]>();
    const paths: (readonly Step[])[] = [];
    let frontier: { type: GraphQLObjectType; steps: readonly Step[] }[] = [];
    for (const to of concrete(schema, getNamedType(rootField.type))) {
      const steps = [{ from: root, field: rootField, to, fragment: !isObjectType(getNamedType(rootField.type)) }];
      if (hasTargets(to)) paths.push(steps);
      if (!way.has(to.name)) {
        way.set(to.name, steps);
        frontier.push({ type: to, steps });
      }
    }
    for (let depth = 1; depth <= maxSteps && frontier.length > 0; depth++) {
      const next: typeof frontier = [];
      for (const { type, steps } of frontier) {
        for (const field of Object.values(type.getFields())) {
          if (targets.has(`${type.name}.${field.name}`)) continue;
          const named = getNamedType(field.type);
          for (const to of concrete(schema, named)) {
            const longer = [...steps, { from: type, field, to, fragment: !isObjectType(named) }];
            if (hasTargets(to)) paths.push(longer);
            if (way.has(to.name)) continue;
            way.set(to.name, longer);
            next.push({ type: to, steps: longer });
          }
        }
      }
      frontier = next;
    }
    const printNode = (n: Node): string =>
      ['__typename', ...n.leaves, ...[...n.children].map(([key, child]) => `${key} { ${printNode(child)} }`)].join(' ');
    /** One operation over `group` (ways to relations into types with targets). */
    const operationOf = (group: readonly (readonly Step[])[], id: string | number | undefined, suffix: string): WalkedOperation => {
      const reached = new Set<Coordinate>();
      const relations = new Set<Coordinate>();
      const trie = node();
      for (const steps of group) {
        const last = steps[steps.length - 1]!.to;
        let at = trie;
        steps.forEach((step, index) => {
          const key = `${step.field.name}${argsOf(step.from, step.field, index === 0, id)}`;
          relations.add(`${step.from.name}.${step.field.name}`);
          let child = at.children.get(key);
          if (!child) at.children.set(key, (child = node()));
          at = child;
          if (step.fragment) {
            const fragment = `... on ${step.to.name}`;
            let inner = at.children.get(fragment);
            if (!inner) at.children.set(fragment, (inner = node()));
            at = inner;
          }
        });
        for (const field of targetsOf(last)) {
          at.leaves.add(`${field.name}${targetSelection(getNamedType(field.type))}`);
          reached.add(`${last.name}.${field.name}`);
        }
      }
      const body = [...trie.children].map(([key, child]) => `${key} { ${printNode(child)} }`).join(' ');
      const name = `${rootField.name}Walk${id === undefined ? '' : String(id).replace(/\W/g, '_')}${suffix}`;
      return {
        kind,
        rootField: rootField.name,
        targets: [...reached].sort(),
        relations: [...relations].sort(),
        query: `${kind} ${name} { ${body} }`,
      };
    };
    if (paths.length === 0) continue;
    const ids = rootField.args.some((arg) => isRequiredArgument(arg) && /^(id|seq)$/i.test(arg.name)) ? lookupIds : [undefined];
    for (const id of ids) {
      const whole = operationOf(paths, id, '');
      if (fits(whole.query)) operations.push(whole);
      else paths.forEach((steps, i) => operations.push(operationOf([steps], id, `_${i}`)));
    }
  }
  return operations;
}

/**
 * Every value found in `data` at a target field, with its coordinate and its path in the answer (the
 * path a field error would carry), recognising objects by their `__typename` (the walker selects it
 * at every level).
 */
export function targetValues(data: unknown, targets: ReadonlySet<Coordinate>): { coordinate: Coordinate; path: string; value: unknown }[] {
  const found: { coordinate: Coordinate; path: string; value: unknown }[] = [];
  const visit = (value: unknown, path: readonly (string | number)[]) => {
    if (Array.isArray(value)) return value.forEach((item, i) => visit(item, [...path, i]));
    if (value === null || typeof value !== 'object') return;
    const record = value as Record<string, unknown>;
    const typename = typeof record['__typename'] === 'string' ? record['__typename'] : undefined;
    for (const [key, inner] of Object.entries(record)) {
      if (typename && targets.has(`${typename}.${key}`))
        found.push({ coordinate: `${typename}.${key}`, path: [...path, key].join('.'), value: inner });
      else visit(inner, [...path, key]);
    }
  };
  visit(data, []);
  return found;
}

/** True when `value` holds something other than null, empty lists and `__typename`s. */
export function holdsValue(value: unknown): boolean {
  if (value === null || value === undefined) return false;
  if (Array.isArray(value)) return value.some(holdsValue);
  if (typeof value === 'object') return Object.entries(value).some(([key, inner]) => key !== '__typename' && holdsValue(inner));
  return true;
}
