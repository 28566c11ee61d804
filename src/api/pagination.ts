import { ArgsType, Field, Int, ObjectType, registerEnumType, type ClassType } from 'type-graphql';
import type { ObjectLiteral, SelectQueryBuilder } from 'typeorm';
import { ErrorCode, clientError } from './errors.js';
import { SqlReader } from '../db/sql-reader.js';
import { QUERY_COSTS } from './limits.js';

/** The most rows one page may hold; asking for more is an error, not a silent cut. */
export const MAX_PAGE_SIZE = 100;
export const DEFAULT_PAGE_SIZE = 20;
/** Default length of nested lists such as `customer.visits(first)`. */
export const DEFAULT_NESTED_SIZE = 10;

/** Checks a nested list's `first` against the page-size maximum. */
export function nestedSize(first: number, field: string): number {
  if (first < 0 || first > MAX_PAGE_SIZE)
    throw clientError(ErrorCode.BAD_USER_INPUT, `${field}(first): must be between 0 and ${MAX_PAGE_SIZE}, got ${first}`);
  return first;
}

/**
 * Our record ids are 32-bit serials: any other string cannot name a row, and must not reach
 * PostgreSQL as an integer parameter (it would fail there rather than match nothing).
 */
export function isOwnId(id: string): boolean {
  return /^\d{1,10}$/.test(id) && Number(id) <= 2_147_483_647;
}

export enum OrderDirection {
  ASC = 'ASC',
  DESC = 'DESC',
}
registerEnumType(OrderDirection, { name: 'OrderDirection', description: 'Ascending or descending.' });

@ArgsType()
export class ConnectionArgs {
  @Field(() => Int, {
    nullable: true,
    description: `Return the first n items after \`after\` (at most ${MAX_PAGE_SIZE}; default ${DEFAULT_PAGE_SIZE}).`,
  })
  first?: number | null;

  @Field(() => String, { nullable: true, description: 'A cursor from a previous page: return items after it.' })
  after?: string | null;

  @Field(() => Int, { nullable: true, description: `Return the last n items before \`before\` (at most ${MAX_PAGE_SIZE}).` })
  last?: number | null;

  @Field(() => String, { nullable: true, description: 'A cursor from a previous page: return items before it.' })
  before?: string | null;
}

@ObjectType({ description: 'Where a page sits in the whole list (Relay cursor connections).' })
export class PageInfo {
  @Field({ description: 'True when more items follow this page.' })
  hasNextPage!: boolean;

  @Field({ description: 'True when items precede this page.' })
  hasPreviousPage!: boolean;

  @Field(() => String, { nullable: true, description: 'Cursor of the first item of the page.' })
  startCursor!: string | null;

  @Field(() => String, { nullable: true, description: 'Cursor of the last item of the page.' })
  endCursor!: string | null;
}

export interface Edge<T> {
  cursor: string;
  node: T;
}

export interface Connection<T> {
  edges: Edge<T>[];
  nodes: T[];
  pageInfo: PageInfo;
  /** A function: the default resolver calls it only when the field is selected. */
  totalCount: () => Promise<number>;
}

/** `XConnection` and `XEdge` object types for a node type. */
export function ConnectionType<T extends object>(node: ClassType<T>, name: string, noun: string) {
  @ObjectType(`${name}Edge`, { description: `One ${noun} in a page, with its cursor.` })
  class EdgeType {
    @Field({ description: 'Opaque cursor: pass it as `after` or `before` to page from here.' })
    cursor!: string;

    @Field(() => node, { description: `The ${noun}.` })
    node!: T;
  }

  @ObjectType(`${name}Connection`, { description: `A page of ${noun}s (Relay cursor connection).` })
  class ConnectionTypeClass {
    @Field(() => [EdgeType], { description: 'The page, with cursors.' })
    edges!: EdgeType[];

    @Field(() => [node], { description: 'The page, without cursors.' })
    nodes!: T[];

    @Field(() => PageInfo)
    pageInfo!: PageInfo;

    // `simple`: graphql-js's default resolver, which calls the function — so the COUNT runs only when selected.
    // Costed once per connection, not per row of its page (limits.ts, QUERY_COSTS.aggregate).
    @Field(() => Int, {
      simple: true,
      complexity: QUERY_COSTS.aggregate,
      description: 'How many items match the filters, across all pages (counted only when asked for).',
    })
    totalCount!: number;
  }
  return ConnectionTypeClass;
}

/** How a list is ordered: a SQL column, how to read its value off an entity, and the direction. */
export interface KeysetOrder<T> {
  /** SQL expression of the sort column, e.g. `customer."lastEventAt"`; must be NOT NULL. */
  readonly column: string;
  readonly value: (entity: T) => number | string;
  readonly direction: OrderDirection;
  /** SQL expression of the unique tie-breaker, e.g. `customer."id"`. */
  readonly idColumn: string;
  readonly id: (entity: T) => number;
}

const encodeCursor = (value: number | string, id: number) => Buffer.from(JSON.stringify([value, id])).toString('base64url');

function decodeCursor(cursor: string, argument: string): [number | string, number] {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(parsed) && parsed.length === 2 && ['number', 'string'].includes(typeof parsed[0]) && Number.isInteger(parsed[1])) {
      return parsed as [number | string, number];
    }
  } catch {
    /* fall through */
  }
  throw clientError(ErrorCode.BAD_USER_INPUT, `${argument}: not a cursor from this list`);
}

let parameter = 0;

/**
 * One page of `qb` by keyset: `first`/`after` walk forward, `last`/`before` backward. The query
 * fetches one row more than the page to learn whether another page follows. `qb` must already carry
 * the filters and the viewer's scope; `totalCount` counts the same query without paging.
 */
export async function paginate<T extends ObjectLiteral>(
  qb: SelectQueryBuilder<T>,
  args: ConnectionArgs,
  order: KeysetOrder<T>,
  /**
   * What the page's statement reads (children.ts, recordRead): only `properties` of the records
   * (they must include the order and id columns), and more columns for prefetched fields.
   */
  read?: {
    readonly properties?: readonly string[];
    readonly extras: readonly string[];
    readonly onRow: (entity: T, row: Record<string, unknown>) => void;
  },
): Promise<Connection<T>> {
  const { first, last, after, before } = args;
  if (first != null && last != null) throw clientError(ErrorCode.BAD_USER_INPUT, 'pass either first or last, not both');
  for (const [name, size] of [
    ['first', first],
    ['last', last],
  ] as const) {
    if (size != null && (size < 0 || size > MAX_PAGE_SIZE)) {
      throw clientError(ErrorCode.BAD_USER_INPUT, `${name} must be between 0 and ${MAX_PAGE_SIZE}, got ${size}`);
    }
  }
  const backward = last != null || (before != null && first == null);
  const size = (backward ? last : first) ?? DEFAULT_PAGE_SIZE;
  const counter = qb.clone();

  // Walking backward flips the order, then the page is flipped back.
  const ascending = (order.direction === OrderDirection.ASC) !== backward;
  const op = ascending ? '>' : '<';
  const page = qb.clone();
  for (const [cursor, name, isAfter] of [
    [after, 'after', true],
    [before, 'before', false],
  ] as const) {
    if (cursor == null) continue;
    const [value, id] = decodeCursor(cursor, name);
    const cmp = isAfter === !backward ? op : op === '>' ? '<' : '>';
    const v = `keyset${++parameter}`;
    const i = `keyset${++parameter}`;
    if (order.column === order.idColumn) {
      page.andWhere(`${order.idColumn} ${cmp} :${i}`, { [i]: id });
    } else {
      // The leading `column >= value` (or <=) is what an index on the column can seek to; the OR alone
      // made SQLite scan the whole table.
      page.andWhere(
        `${order.column} ${cmp}= :${v} AND (${order.column} ${cmp} :${v} OR (${order.column} = :${v} AND ${order.idColumn} ${cmp} :${i}))`,
        { [v]: value, [i]: id },
      );
    }
  }
  const dir = ascending ? 'ASC' : 'DESC';
  const rows = await SqlReader.of(qb.connection).entities(
    page
      .orderBy(order.column, dir)
      .addOrderBy(order.idColumn, dir)
      .limit(size + 1),
    read?.extras,
    read?.onRow,
    read?.properties ?? null,
  );
  const more = rows.length > size;
  const nodes = rows.slice(0, size);
  if (backward) nodes.reverse();
  const edges = nodes.map((node) => ({ cursor: encodeCursor(order.value(node), order.id(node)), node }));
  return {
    edges,
    nodes,
    pageInfo: {
      hasNextPage: backward ? before != null : more,
      hasPreviousPage: backward ? more : after != null,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges[edges.length - 1]?.cursor ?? null,
    },
    totalCount: () => SqlReader.of(qb.connection).count(counter),
  };
}
