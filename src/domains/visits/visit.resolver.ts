import { Ctx, FieldResolver, Int, Resolver, Root } from 'type-graphql';
import type { GraphQLContext } from '../../graphql/context.js';
import { customerLoader } from '../customers/customer.resolver.js';
import { Customer } from '../customers/customer.entity.js';
import { Studio } from '../studios/studio.entity.js';
import { studioLoader } from '../studios/studio.resolver.js';
import { Visit } from './visit.entity.js';
import { registerFieldColumns } from '../../graphql/field-columns.js';

registerFieldColumns('Visit', { customer: ['tenantId', 'customerId'], studio: ['studioId'], durationSeconds: ['checkinAt', 'checkoutAt'] });

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

  @FieldResolver(() => Int, { nullable: true, description: 'Seconds between check-in and check-out; null while open or without a check-in.' })
  durationSeconds(@Root() visit: Visit): number | null {
    return visit.checkinAt && visit.checkoutAt ? Math.round((visit.checkoutAt.getTime() - visit.checkinAt.getTime()) / 1000) : null;
  }
}
