import type { GraphQLResolveInfo } from 'graphql';
import { PersonalData } from '../access/personal-data.js';
import { Arg, Args, Ctx, Field, FieldResolver, ID, Info, InputType, Int, Query, Resolver, Root, registerEnumType } from 'type-graphql';
import {
  ChildCount,
  NestedPageArgs,
  countPrefetch,
  listPrefetch,
  pagedChildList,
  recordRead,
  type PrefetchHint,
} from '../../api/children.js';
import type { FieldColumns } from '../../api/field-columns.js';
import type { GraphQLContext } from '../../api/context.js';
import { QUERY_COSTS } from '../../api/limits.js';
import { TimeRangeInput, parseIds, whereIn, whereTimeRange } from '../../api/filters.js';
import { type Connection, ConnectionArgs, ConnectionType, isOwnId, nestedSize, OrderDirection, paginate } from '../../api/pagination.js';
import { Studio } from '../studios/studio.entity.js';
import { Visit } from '../visits/visit.entity.js';
import { Customer } from './customer.entity.js';
import { SqlReader } from '../../db/sql-reader.js';
import { customerActivity, scopedEventTimeSql } from './customer-activity.js';
import { isPresent, presenceRule, presentSql } from './presence.js';
import { LIKE_SQL, MAX_SEARCH_LENGTH, SEARCH_COLUMNS, likePrefix, searchPrefix } from './customer-search.js';
import { TABLES } from '../../db/tables.js';

export enum CustomerOrderField {
  ID = 'id',
  CUSTOMER_ID = 'customerId',
  FIRST_EVENT_AT = 'firstEventAt',
  LAST_EVENT_AT = 'lastEventAt',
}
registerEnumType(CustomerOrderField, { name: 'CustomerOrderField', description: 'What to order customers by.' });

@InputType({ description: 'How to order customers.' })
export class CustomerOrder {
  @Field(() => CustomerOrderField, { defaultValue: CustomerOrderField.ID })
  field!: CustomerOrderField;

  @Field(() => OrderDirection, { defaultValue: OrderDirection.ASC })
  direction!: OrderDirection;
}

@InputType({ description: 'Which customers to list. Every condition given must hold.' })
export class CustomerFilter {
  @Field(() => [ID], { nullable: true, description: 'Customers that these studios delivered events about.' })
  studioIds?: number[] | null;

  @Field(() => [ID], { nullable: true, description: 'Upstream customer ids.' })
  customerIds?: string[] | null;

  @Field(() => Boolean, { nullable: true, description: 'true: only deleted customers (tombstones); false: only customers not deleted.' })
  deleted?: boolean | null;

  @Field(() => Boolean, { nullable: true, description: 'true: only customers checked in now; false: only those who are not.' })
  checkedIn?: boolean | null;

  @Field(() => TimeRangeInput, { nullable: true, description: 'Created upstream (CUSTOMER_CREATED) within this range.' })
  createdAt?: TimeRangeInput | null;

  @Field(() => TimeRangeInput, {
    nullable: true,
    description: "Latest event within this range: the latest that this token's studios delivered (see `Customer.lastEventAt`).",
  })
  lastEventAt?: TimeRangeInput | null;

  @Field(() => String, {
    nullable: true,
    description:
      'Customers whose name ("first last", or the last name alone), e-mail or customer number starts with this text, ignoring case and repeated spaces: `anna`, `anna sch`, `schmidt`, `anna.s@`, `c-10`. ' +
      `At most ${MAX_SEARCH_LENGTH} characters. Reads the hydrated fields: a customer not hydrated yet (or erased) matches nothing. Needs the personalData permission (PERSONAL_DATA_FORBIDDEN otherwise).`,
  })
  @PersonalData()
  search?: string | null;

  @Field(() => String, {
    nullable: true,
    description: `Customers whose customer number starts with this text, ignoring case (\`C-10\` finds C-100 to C-109). At most ${MAX_SEARCH_LENGTH} characters. The customer number is personal data: needs the personalData permission (PERSONAL_DATA_FORBIDDEN otherwise).`,
  })
  @PersonalData()
  customerNumber?: string | null;

  @Field(() => [String], {
    nullable: true,
    description:
      "Customers with one of these statuses in the operator's system (MEMBER, PROSPECT, FORMER_MEMBER, or whatever new value it sends; any case). From the Open API: a customer not hydrated yet has no status and matches none.",
  })
  status?: string[] | null;
}

export const CustomerConnection = ConnectionType(Customer, 'Customer', 'customer');

/** `Customer.visits`: the latest first (by id: the event-log seq of the check-in). */
const VISITS = pagedChildList(
  'visitsOfCustomer',
  { entity: Visit, parentColumns: ['tenantId', 'customerId'], studioColumn: 'studioId', order: [['id', 'DESC']] },
  ['tenantId', 'customerId'],
  'visits',
  'checkinAt',
);
const VISIT_COUNT = new ChildCount(
  'visitCountOfCustomer',
  { entity: Visit, parentColumns: ['tenantId', 'customerId'], studioColumn: 'studioId' },
  ['tenantId', 'customerId'],
);
/** `Customer.visits` and `visitCount` read inside the customers' statement (see useFieldHints). */
export const CUSTOMER_VISIT_PREFETCH: readonly PrefetchHint[] = [
  { type: 'Customer', field: 'visits', reads: VISITS.parentColumns, prefetch: listPrefetch(VISITS) },
  { type: 'Customer', field: 'visitCount', reads: VISIT_COUNT.parentColumns, prefetch: countPrefetch(VISIT_COUNT) },
];

/** What presence now (checkedIn) is computed from. */
const PRESENCE = ['lastCheckinAt', 'lastCheckinStudioId', 'lastCheckoutAt'] as const;
// The activity fields (firstEventAt, lastEventAt, studioId, lastCheckin*, lastCheckoutAt) declare
// their columns and prefetches in customer-activity.ts.
export const CUSTOMER_COLUMNS: FieldColumns = {
  type: 'Customer',
  fields: {
    checkedIn: [...PRESENCE, 'deletedAt'],
    deleted: ['deletedAt'],
    studios: ['tenantId', 'customerId'],
    accessDisabled: ['accessDisabledAt'],
    accessRestricted: ['lastAccessRestrictionCreatedAt', 'lastAccessRestrictionDeletedAt'],
    lastAccessMediumChangedAt: ['lastAccessMediumCreatedAt', 'lastAccessMediumUpdatedAt', 'lastAccessMediumDeletedAt'],
  },
};
/** Columns every read of customers for GraphQL includes: the id and the key the nested lists hang on. */
const CUSTOMER_KEYS = ['id', 'tenantId', 'customerId'] as const;

/** Visible customers by (tenantId, customerId), batched per request. */
export function customerLoader(context: GraphQLContext) {
  return context.loaders.get<readonly [number, number], Customer | null>(
    'customerByKey',
    async (keys) => {
      const qb = context.dataSource
        .getRepository(Customer)
        .createQueryBuilder('customer')
        .where(
          '(customer.tenantId, customer.customerId) IN (VALUES ' +
            keys.map((_, i) => `(CAST(:t${i} AS INTEGER), CAST(:c${i} AS BIGINT))`).join(', ') +
            ')',
          Object.fromEntries(
            keys.flatMap(([t, c], i) => [
              [`t${i}`, t],
              [`c${i}`, c],
            ]),
          ),
        );
      context.scope.whereCustomer(qb, 'customer');
      const found = new Map((await SqlReader.of(context.dataSource).entities(qb)).map((c) => [`${c.tenantId}:${c.customerId}`, c]));
      return keys.map(([t, c]) => found.get(`${t}:${c}`) ?? null);
    },
    ([t, c]) => `${t}:${c}`,
  );
}

/**
 * Checked in now at one of the viewer's studios: the operator-wide latest check-in was there and is
 * present (presence.ts: no check-out after it, within the maximum stay, not deleted) — the rule
 * `occupancy` counts by. A customer who went on to another studio is no longer checked in here
 * (without saying where or when they went).
 */
function checkedInHere(customer: Customer, context: GraphQLContext): boolean {
  return (
    customer.lastCheckinStudioId !== null &&
    context.scope.allows(customer.lastCheckinStudioId) &&
    customer.deletedAt === null &&
    isPresent(customer.lastCheckinAt, customer.lastCheckoutAt, presenceRule(context.dataSource))
  );
}

@Resolver(() => Customer)
export class CustomerResolver {
  @Query(() => Customer, {
    nullable: true,
    description: 'One customer by our id; null when it does not exist or this token may not see it.',
  })
  async customer(
    @Arg('id', () => ID) id: string,
    @Ctx() context: GraphQLContext,
    @Info() info: GraphQLResolveInfo,
  ): Promise<Customer | null> {
    if (!isOwnId(id)) return null;
    const reader = SqlReader.of(context.dataSource);
    const params = reader.params();
    const { shape, extras, onRow } = recordRead(context, info, 'Customer', Customer, '"customer"', CUSTOMER_KEYS);
    const rows = await reader.all<Record<string, unknown>>(
      `SELECT ${[shape.select('"customer"'), ...extras.map((sql, i) => `${sql} AS "x${i}"`)].join(', ')}
         FROM "${TABLES.customers}" "customer" WHERE "customer"."id" = ${params.add(Number(id))}${context.scope.customerSql(params, '"customer"')}`,
      params.values,
    );
    const row = rows[0];
    if (!row) return null;
    const customer = shape.map(row);
    onRow(customer, row);
    return customer;
  }

  @Query(() => CustomerConnection, { description: 'Customers this token may see, filtered and ordered, one page at a time.' })
  customers(
    @Args() page: ConnectionArgs,
    @Arg('filter', () => CustomerFilter, { nullable: true }) filter: CustomerFilter | null,
    @Arg('orderBy', () => CustomerOrder, { nullable: true }) orderBy: CustomerOrder | null,
    @Ctx() context: GraphQLContext,
    @Info() info: GraphQLResolveInfo,
  ): Promise<Connection<Customer>> {
    const qb = context.dataSource.getRepository(Customer).createQueryBuilder('customer');
    context.scope.whereCustomer(qb, 'customer');
    if (filter?.studioIds) {
      if (filter.studioIds.length === 0) qb.andWhere('1 = 0');
      else
        qb.andWhere(
          `EXISTS (SELECT 1 FROM ${TABLES.customer_studios} fs WHERE fs."tenantId" = customer."tenantId" AND fs."customerId" = customer."customerId" AND fs."studioId" IN (:...filterStudios))`,
          { filterStudios: filter.studioIds },
        );
    }
    whereIn(qb, 'customer.customerId', parseIds(filter?.customerIds, 'filter.customerIds'));
    if (filter?.deleted != null) qb.andWhere(filter.deleted ? 'customer.deletedAt IS NOT NULL' : 'customer.deletedAt IS NULL');
    if (filter?.checkedIn != null) {
      // Checked in at a studio this token may see (see presenceVisible).
      const visible =
        context.scope.studioIds === null
          ? ''
          : context.scope.studioIds.length === 0
            ? ' AND 1 = 0'
            : ` AND customer.lastCheckinStudioId IN (${context.scope.studioIds.map(Number).join(', ')})`;
      const checkedIn = `customer.deletedAt IS NULL AND ${presentSql((name) => `customer.${name}`, presenceRule(context.dataSource))}${visible}`;
      qb.andWhere(filter.checkedIn ? `(${checkedIn})` : `NOT (${checkedIn})`);
    }
    if (filter?.search != null) {
      // Before any SQL: whether anything matches would say something about the person.
      const pattern = likePrefix(searchPrefix(filter.search, 'filter.search'));
      qb.andWhere(`(${SEARCH_COLUMNS.map((column) => LIKE_SQL(`customer.${column}`, 'searchPattern')).join(' OR ')})`, {
        searchPattern: pattern,
      });
    }
    if (filter?.customerNumber != null) {
      qb.andWhere(LIKE_SQL('customer.searchNumber', 'numberPattern'), {
        numberPattern: likePrefix(searchPrefix(filter.customerNumber, 'filter.customerNumber')),
      });
    }
    whereIn(
      qb,
      'customer.status',
      filter?.status?.map((status) => status.trim().toUpperCase()),
    );
    whereTimeRange(qb, 'customer.createdAt', filter?.createdAt, 'filter.createdAt');
    // Event times as the viewer's studios saw them (customer-activity.ts): the row's own for every studio.
    whereTimeRange(
      qb,
      context.scope.unrestricted ? 'customer.lastEventAt' : scopedEventTimeSql(context.scope, 'customer', 'lastEventAt'),
      filter?.lastEventAt,
      'filter.lastEventAt',
    );
    const field = orderBy?.field ?? CustomerOrderField.ID;
    const read = recordRead(context, info, 'Customer', Customer, '"customer"', [...CUSTOMER_KEYS, field]);
    if (context.scope.unrestricted || field === CustomerOrderField.ID || field === CustomerOrderField.CUSTOMER_ID) {
      return paginate(
        qb,
        page,
        {
          column: `customer.${field}`,
          value: (c) =>
            field === CustomerOrderField.ID ? c.id : field === CustomerOrderField.CUSTOMER_ID ? c.customerId : c[field].getTime(),
          direction: orderBy?.direction ?? OrderDirection.ASC,
          idColumn: 'customer.id',
          id: (c) => c.id,
        },
        { properties: read.shape.properties, extras: read.extras, onRow: read.onRow },
      );
    }
    // Ordered by a time of the viewer's studios: computed in the statement, and read back for the cursors.
    const column = scopedEventTimeSql(context.scope, 'customer', field);
    const sortValues = new WeakMap<Customer, number>();
    const at = read.extras.length;
    return paginate(
      qb,
      page,
      {
        column,
        value: (c) => sortValues.get(c)!,
        direction: orderBy?.direction ?? OrderDirection.ASC,
        idColumn: 'customer.id',
        id: (c) => c.id,
      },
      {
        properties: read.shape.properties,
        extras: [...read.extras, column],
        onRow: (customer, row) => {
          read.onRow(customer, row);
          sortValues.set(customer, Number(row[`x${at}`]));
        },
      },
    );
  }

  @FieldResolver(() => Boolean, {
    description:
      "True while the customer is checked in at one of the studios this token may see: their latest check-in was there, no check-out (theirs or the studio's automatic one) followed it, it is younger than the maximum stay (OCCUPANCY_MAX_STAY), and the customer is not deleted — as `occupancy` counts.",
  })
  checkedIn(@Root() customer: Customer, @Ctx() context: GraphQLContext): boolean {
    return checkedInHere(customer, context);
  }

  @FieldResolver(() => Date, {
    nullable: true,
    description: 'Time of the latest check-in at a studio this token may see; null when there is none.',
  })
  lastCheckinAt(@Root() customer: Customer, @Ctx() context: GraphQLContext): Date | null | Promise<Date | null> {
    return customerActivity(customer, 'lastCheckinAt', context);
  }

  @FieldResolver(() => ID, { nullable: true, description: 'Studio of lastCheckinAt; null when there is none.' })
  lastCheckinStudioId(@Root() customer: Customer, @Ctx() context: GraphQLContext): number | null | Promise<number | null> {
    return customerActivity(customer, 'lastCheckinStudioId', context);
  }

  @FieldResolver(() => Date, {
    nullable: true,
    description: 'Time of the latest check-out at a studio this token may see; null when there is none.',
  })
  lastCheckoutAt(@Root() customer: Customer, @Ctx() context: GraphQLContext): Date | null | Promise<Date | null> {
    return customerActivity(customer, 'lastCheckoutAt', context);
  }

  @FieldResolver(() => Date, {
    description: 'When the earliest event about this customer that a studio this token may see delivered happened upstream.',
  })
  firstEventAt(@Root() customer: Customer, @Ctx() context: GraphQLContext): Date | Promise<Date> {
    return customerActivity(customer, 'firstEventAt', context);
  }

  @FieldResolver(() => Date, {
    description: 'When the latest event about this customer that a studio this token may see delivered happened upstream.',
  })
  lastEventAt(@Root() customer: Customer, @Ctx() context: GraphQLContext): Date | Promise<Date> {
    return customerActivity(customer, 'lastEventAt', context);
  }

  @FieldResolver(() => ID, {
    description: 'The studio (of those this token may see) that delivered the earliest event about this customer.',
  })
  studioId(@Root() customer: Customer, @Ctx() context: GraphQLContext): number | Promise<number> {
    return customerActivity(customer, 'studioId', context);
  }

  @FieldResolver(() => Boolean, { description: 'True once CUSTOMER_DELETED arrived; the record stays as a tombstone.' })
  deleted(@Root() customer: Customer): boolean {
    return customer.deletedAt !== null;
  }

  @FieldResolver(() => Boolean, {
    description:
      'True once CUSTOMER_ACCESS_DISABLED arrived (see `accessDisabledAt`): for good, the customer can no longer be read upstream.',
  })
  accessDisabled(@Root() customer: Customer): boolean {
    return customer.accessDisabledAt !== null;
  }

  /**
   * The latest of CUSTOMER_ACCESS_RESTRICTION_CREATED and _DELETED by event time decides; a set and a
   * lift of the same millisecond count as set (refusing entry is the side to err on), so the answer
   * depends on the two times only, never on the order they arrived in.
   */
  @FieldResolver(() => Boolean, {
    nullable: true,
    description:
      'True while an access restriction is in force by the events: the latest CUSTOMER_ACCESS_RESTRICTION_CREATED is not older than the latest CUSTOMER_ACCESS_RESTRICTION_DELETED (the same time counts as set). ' +
      "Null when neither arrived. The events name no restriction, so with several at once the lift of one reads as lifted; `accessRefused` (from the Open API, read again after each of these events) is the operator's own answer.",
  })
  accessRestricted(@Root() customer: Customer): boolean | null {
    const set = customer.lastAccessRestrictionCreatedAt;
    const lifted = customer.lastAccessRestrictionDeletedAt;
    if (set === null) return lifted === null ? null : false;
    return lifted === null || set.getTime() >= lifted.getTime();
  }

  @FieldResolver(() => Date, {
    nullable: true,
    description:
      "When the customer's access media (cards, tags or similar) last changed: the latest CUSTOMER_ACCESS_MEDIUM_CREATED, _UPDATED or _DELETED; null if none arrived.",
  })
  lastAccessMediumChangedAt(@Root() customer: Customer): Date | null {
    const times = [customer.lastAccessMediumCreatedAt, customer.lastAccessMediumUpdatedAt, customer.lastAccessMediumDeletedAt].filter(
      (t): t is Date => t !== null,
    );
    return times.length === 0 ? null : new Date(Math.max(...times.map((t) => t.getTime())));
  }

  @FieldResolver(() => [Visit], {
    description: 'The latest visits first (at studios this token may see; by id, the order they arrived in).',
  })
  visits(
    @Root() customer: Customer,
    @Args() { first, after }: NestedPageArgs,
    @Arg('checkinAt', () => TimeRangeInput, {
      nullable: true,
      description: 'Only visits checked in within this range (either end may be open).',
    })
    checkinAt: TimeRangeInput | null,
    @Ctx() context: GraphQLContext,
    @Info() info: GraphQLResolveInfo,
  ): Promise<Visit[]> {
    return VISITS.load(context, customer, nestedSize(first, 'visits'), info, { after, checkinAt });
  }

  @FieldResolver(() => Int, {
    complexity: QUERY_COSTS.childCount,
    description: 'How many visits the customer has made (at studios this token may see), open ones included.',
  })
  visitCount(@Root() customer: Customer, @Ctx() context: GraphQLContext): Promise<number> {
    return VISIT_COUNT.load(context, customer);
  }

  @FieldResolver(() => [Studio], { description: 'The studios (that this token may see) which delivered events about this customer.' })
  studios(@Root() customer: Customer, @Ctx() context: GraphQLContext): Promise<Studio[]> {
    return context.loaders
      .get<readonly [number, number], Studio[]>(
        'studiosOfCustomer',
        async (keys) => {
          const reader = SqlReader.of(context.dataSource);
          const shape = reader.shape(Studio);
          const params = reader.params();
          const rows = await reader.all<Record<string, unknown>>(
            `SELECT cs."tenantId" AS "linkTenantId", cs."customerId" AS "linkCustomerId", ${shape.select('s')}
             FROM ${TABLES.customer_studios} cs JOIN ${TABLES.studios} s ON s."id" = cs."studioId"
            WHERE (cs."tenantId", cs."customerId") IN (VALUES ${keys.map(([t, c]) => `(${params.int(t)}, ${params.int(c)})`).join(', ')})${context.scope.studioSql(params, 'cs."studioId"')}
            ORDER BY s."id"`,
            params.values,
          );
          const byCustomer = new Map<string, Studio[]>();
          for (const row of rows) {
            const key = `${row['linkTenantId']}:${row['linkCustomerId']}`;
            const list = byCustomer.get(key);
            if (list) list.push(shape.map(row));
            else byCustomer.set(key, [shape.map(row)]);
          }
          return keys.map(([t, c]) => byCustomer.get(`${t}:${c}`) ?? []);
        },
        ([t, c]) => `${t}:${c}`,
      )
      .load([customer.tenantId, customer.customerId]);
  }
}
