import { isObjectType, type GraphQLSchema } from 'graphql';
import { Arg, Args, Ctx, Field, FieldResolver, ID, InputType, Int, Query, Resolver, Root, registerEnumType } from 'type-graphql';
import type { ObjectLiteral, SelectQueryBuilder } from 'typeorm';
import { TimeRangeInput, parseIds, whereIn, whereTimeRange } from '../../api/filters.js';
import { type Connection, ConnectionArgs, ConnectionType, OrderDirection, paginate } from '../../api/pagination.js';
import type { Scope } from '../../api/scope.js';
import type { GraphQLContext } from '../../api/context.js';
import { customerLoader } from '../customers/customer.resolver.js';
import { Customer } from '../customers/customer.entity.js';
import { Studio } from '../studios/studio.entity.js';
import { studioLoader } from '../studios/studio.resolver.js';
import { Visit } from './visit.entity.js';
import type { FieldColumns } from '../../api/field-columns.js';

/** What a visit's check-out fields read: the check-out and the studio that delivered it. */
const CHECKOUT = ['checkinAt', 'checkoutAt', 'checkoutStudioId'];
export const VISIT_COLUMNS: FieldColumns = {
  type: 'Visit',
  fields: {
    customer: ['tenantId', 'customerId'],
    studio: ['studioId'],
    durationSeconds: CHECKOUT,
    checkoutAt: CHECKOUT,
    checkoutStudioId: CHECKOUT,
    lastEventAt: [...CHECKOUT, 'lastEventAt'],
  },
};

/**
 * A visit belongs to the studio of its check-in; a check-out another studio of the operator
 * delivered is that studio's activity. A token that may not see that studio gets the visit as its
 * own studio saw it: open, with the check-in as its latest event.
 */
function checkoutVisible(visit: Visit, context: GraphQLContext): boolean {
  return visit.checkoutStudioId === null || context.scope.allows(visit.checkoutStudioId);
}

/**
 * `Visit.checkoutAt`, `checkoutStudioId` and `lastEventAt` as plain functions on the built schema
 * (not type-graphql field resolvers, whose per-call argument handling a nested list of visits would
 * pay on every row): the column, unless the check-out is another studio's. Call once on the schema.
 */
export function scopeVisitCheckouts(schema: GraphQLSchema): void {
  const type = schema.getType('Visit');
  if (!isObjectType(type)) throw new Error('the schema has no Visit type');
  const fields = type.getFields();
  fields['checkoutAt']!.resolve = (visit: Visit, _args, context: GraphQLContext) =>
    checkoutVisible(visit, context) ? visit.checkoutAt : null;
  fields['checkoutStudioId']!.resolve = (visit: Visit, _args, context: GraphQLContext) =>
    checkoutVisible(visit, context) ? visit.checkoutStudioId : null;
  fields['lastEventAt']!.resolve = (visit: Visit, _args, context: GraphQLContext) =>
    checkoutVisible(visit, context) ? visit.lastEventAt : (visit.checkinAt ?? visit.lastEventAt);
}

export enum VisitOrderField {
  CHECKIN_AT = 'checkinAt',
  ID = 'id',
}
registerEnumType(VisitOrderField, {
  name: 'VisitOrderField',
  description: 'What to order visits by.',
  valuesConfig: {
    CHECKIN_AT: {
      description: 'Check-in time (then id). Lists only visits with a check-in: a check-out that closed none has no check-in time.',
    },
    ID: {
      description:
        'Our id: the event-log sequence of the check-in (of the check-out, for a visit without check-in), i.e. the order they arrived in.',
    },
  },
});

@InputType({ description: 'How to order visits.' })
export class VisitOrder {
  @Field(() => VisitOrderField, { defaultValue: VisitOrderField.CHECKIN_AT })
  field!: VisitOrderField;

  @Field(() => OrderDirection, { defaultValue: OrderDirection.ASC })
  direction!: OrderDirection;
}

@InputType({ description: 'Which visits to list. Every condition given must hold.' })
export class VisitFilter {
  @Field(() => [ID], {
    nullable: true,
    description: 'Visits checked in at these studios (a visit without check-in: whose check-out these studios delivered).',
  })
  studioIds?: number[] | null;

  @Field(() => [ID], { nullable: true, description: 'Visits of these upstream customer ids.' })
  customerIds?: string[] | null;

  @Field(() => TimeRangeInput, {
    nullable: true,
    description:
      'Checked in within this range; either end may be left open (`{from: ...}`: since then). A visit without check-in matches no range.',
  })
  checkinAt?: TimeRangeInput | null;

  @Field(() => Boolean, {
    nullable: true,
    description:
      'true: only open visits (no check-out, as this token sees it: one delivered by a studio it may not see does not count); false: only closed ones. ' +
      'An open visit stays open past the maximum stay (OCCUPANCY_MAX_STAY), which ends presence, not the visit.',
  })
  open?: boolean | null;
}

export const VisitConnection = ConnectionType(Visit, 'Visit', 'visit');

/** `visit.checkoutAt` as `scope` sees it (SQL): null when another studio, one it may not see, delivered it. */
export function visibleCheckoutSql(scope: Scope, alias: string): string {
  const ids = scope.studioIds;
  if (ids === null) return `${alias}."checkoutAt"`;
  if (ids.length === 0) return 'NULL';
  return `CASE WHEN ${alias}."checkoutStudioId" IS NULL OR ${alias}."checkoutStudioId" IN (${ids.map((id) => String(Math.trunc(id))).join(', ')}) THEN ${alias}."checkoutAt" END`;
}

/** The `visits` filter on a query builder whose alias is `visit`. */
function whereVisits<T extends ObjectLiteral>(qb: SelectQueryBuilder<T>, filter: VisitFilter | null, scope: Scope): void {
  whereIn(qb, 'visit.studioId', filter?.studioIds);
  whereIn(qb, 'visit.customerId', parseIds(filter?.customerIds, 'filter.customerIds'));
  whereTimeRange(qb, 'visit.checkinAt', filter?.checkinAt, 'filter.checkinAt');
  if (filter?.open != null) qb.andWhere(`${visibleCheckoutSql(scope, '"visit"')} IS ${filter.open ? '' : 'NOT '}NULL`);
}

@Resolver(() => Visit)
export class VisitResolver {
  @Query(() => VisitConnection, {
    description:
      'Visits at the studios this token may see (those of their check-in), filtered and ordered — by check-in time unless told otherwise — one page at a time. ' +
      'Who is in a studio now is `occupancy` and `customers(filter: {checkedIn: true})`: they also apply the maximum stay.',
  })
  visits(
    @Args() page: ConnectionArgs,
    @Arg('filter', () => VisitFilter, { nullable: true }) filter: VisitFilter | null,
    @Arg('orderBy', () => VisitOrder, { nullable: true }) orderBy: VisitOrder | null,
    @Ctx() context: GraphQLContext,
  ): Promise<Connection<Visit>> {
    const qb = context.dataSource.getRepository(Visit).createQueryBuilder('visit');
    context.scope.where(qb, 'visit.studioId');
    // A member: their own visits only.
    context.scope.whereOwner(qb, 'visit');
    whereVisits(qb, filter, context.scope);
    const field = orderBy?.field ?? VisitOrderField.CHECKIN_AT;
    // The keyset needs a value on every row: a visit without check-in has no place in this order.
    if (field === VisitOrderField.CHECKIN_AT) qb.andWhere('visit.checkinAt IS NOT NULL');
    return paginate(qb, page, {
      column: `visit.${field}`,
      value: (v) => (field === VisitOrderField.ID ? v.id : v.checkinAt!.getTime()),
      direction: orderBy?.direction ?? OrderDirection.ASC,
      idColumn: 'visit.id',
      id: (v) => v.id,
    });
  }

  @FieldResolver(() => Customer, { nullable: true, description: 'The customer (null if this token may not see them).' })
  customer(@Root() visit: Visit, @Ctx() context: GraphQLContext): Promise<Customer | null> {
    return customerLoader(context).load([visit.tenantId, visit.customerId]);
  }

  @FieldResolver(() => Studio, { nullable: true, description: 'The studio that delivered the check-in.' })
  studio(@Root() visit: Visit, @Ctx() context: GraphQLContext): Promise<Studio | null> {
    return studioLoader(context).load(visit.studioId);
  }

  @FieldResolver(() => Int, {
    nullable: true,
    description: 'Seconds between check-in and check-out; null while open (as this token sees it) or without a check-in.',
  })
  durationSeconds(@Root() visit: Visit, @Ctx() context: GraphQLContext): number | null {
    return visit.checkinAt && visit.checkoutAt && checkoutVisible(visit, context)
      ? Math.round((visit.checkoutAt.getTime() - visit.checkinAt.getTime()) / 1000)
      : null;
  }
}
