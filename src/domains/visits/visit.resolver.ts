import { isObjectType, type GraphQLSchema } from 'graphql';
import { Ctx, FieldResolver, Int, Resolver, Root } from 'type-graphql';
import type { GraphQLContext } from '../../graphql/context.js';
import { customerLoader } from '../customers/customer.resolver.js';
import { Customer } from '../customers/customer.entity.js';
import { Studio } from '../studios/studio.entity.js';
import { studioLoader } from '../studios/studio.resolver.js';
import { Visit } from './visit.entity.js';
import { registerFieldColumns } from '../../graphql/field-columns.js';

/** What a visit's check-out fields read: the check-out and the studio that delivered it. */
const CHECKOUT = ['checkinAt', 'checkoutAt', 'checkoutStudioId'];
registerFieldColumns('Visit', {
  customer: ['tenantId', 'customerId'], studio: ['studioId'], durationSeconds: CHECKOUT,
  checkoutAt: CHECKOUT, checkoutStudioId: CHECKOUT, lastEventAt: [...CHECKOUT, 'lastEventAt'],
});

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
  fields['checkoutAt']!.resolve = (visit: Visit, _args, context: GraphQLContext) => (checkoutVisible(visit, context) ? visit.checkoutAt : null);
  fields['checkoutStudioId']!.resolve = (visit: Visit, _args, context: GraphQLContext) => (checkoutVisible(visit, context) ? visit.checkoutStudioId : null);
  fields['lastEventAt']!.resolve = (visit: Visit, _args, context: GraphQLContext) => (checkoutVisible(visit, context) ? visit.lastEventAt : visit.checkinAt ?? visit.lastEventAt);
}

@Resolver(() => Visit)
export class VisitResolver {
  @FieldResolver(() => Customer, { nullable: true, description: 'The customer (null if this token may not see them).' })
  customer(@Root() visit: Visit, @Ctx() context: GraphQLContext): Promise<Customer | null> {
    return customerLoader(context).load([visit.tenantId, visit.customerId]);
  }

  @FieldResolver(() => Studio, { nullable: true, description: 'The studio that delivered the check-in.' })
  studio(@Root() visit: Visit, @Ctx() context: GraphQLContext): Promise<Studio | null> {
    return studioLoader(context).load(visit.studioId);
  }

  @FieldResolver(() => Int, { nullable: true, description: 'Seconds between check-in and check-out; null while open (as this token sees it) or without a check-in.' })
  durationSeconds(@Root() visit: Visit, @Ctx() context: GraphQLContext): number | null {
    return visit.checkinAt && visit.checkoutAt && checkoutVisible(visit, context) ? Math.round((visit.checkoutAt.getTime() - visit.checkinAt.getTime()) / 1000) : null;
  }
}
