import { Field, ObjectType } from 'type-graphql';
import { CustomerSubscriptionArgs } from '../../api/subscription.args.js';
import { SqlReader } from '../../db/sql-reader.js';
import { Customer } from '../customers/customer.entity.js';
import { CUSTOMER_FIELD, customerOf, loadCustomer, selectCustomers } from '../customers/customer.subscriptions.js';
import { EventRecord } from '../events/event-record.entity.js';
import { EVENT_FIELD, family, ifWanted, ownedBy, recordAfter } from '../subscription-family.js';
import { AggregatorMembership } from './aggregator-membership.entity.js';

@ObjectType({ simpleResolvers: true, description: 'A customer joined through an aggregator, with the membership and the customer.' })
export class AggregatorMembershipEventPayload {
  @Field(() => EventRecord, EVENT_FIELD) event!: EventRecord;
  @Field(() => AggregatorMembership, recordAfter('The aggregator membership')) aggregatorMembership!: AggregatorMembership | null;
  @Field(() => Customer, CUSTOMER_FIELD) customer!: Customer | null;
}

/** A customer's membership through an aggregator (entityId the customer, `content.aggregatorId` the aggregator). */
export const AGGREGATOR_MEMBERSHIP_EVENTS = family({
  payload: AggregatorMembershipEventPayload,
  args: CustomerSubscriptionArgs,
  select: selectCustomers,
  load: async (event, dataSource, wants) => {
    const [aggregatorMembership, customer] = await Promise.all([
      ifWanted(wants, 'aggregatorMembership', () =>
        SqlReader.of(dataSource).findOne(AggregatorMembership, {
          tenantId: event.tenantId,
          customerId: event.entityId,
          aggregatorId: String(event.content?.['aggregatorId']),
        }),
      ),
      ifWanted(wants, 'customer', () => loadCustomer(event, dataSource)),
    ]);
    return { aggregatorMembership, customer };
  },
  visible: ({ aggregatorMembership, customer }, scope, event) => ({
    aggregatorMembership: ownedBy(aggregatorMembership, scope),
    customer: customerOf(customer, scope, event),
  }),
  member: 'entity',
});
