import { Field, ObjectType } from 'type-graphql';
import type { DataSource } from 'typeorm';
import type { Scope } from '../../api/scope.js';
import { CustomerSubscriptionArgs, idsArgument } from '../../api/subscription.args.js';
import { SqlReader } from '../../db/sql-reader.js';
import type { LoggedEvent } from '../../events/logged-event.js';
import { EventRecord } from '../events/event-record.entity.js';
import { EVENT_FIELD, family } from '../subscription-family.js';
import { Customer } from './customer.entity.js';

/** The payload field of the customer an event is about (entityId), shared by the families of customer events. */
export const CUSTOMER_FIELD = { nullable: true, description: 'The customer, as the record stands after the event.' };

@ObjectType({ simpleResolvers: true, description: 'A change to a customer, with the customer.' })
export class CustomerEventPayload {
  @Field(() => EventRecord, EVENT_FIELD) event!: EventRecord;
  @Field(() => Customer, CUSTOMER_FIELD) customer!: Customer | null;
}

/** The customer an event is about (its entityId). */
export const loadCustomer = (event: LoggedEvent, dataSource: DataSource) =>
  SqlReader.of(dataSource).findOne(Customer, { tenantId: event.tenantId, customerId: event.entityId });

/**
 * A customer is visible to every studio that delivered an event about them; the event's studio is
 * within the scope and just did. (Where and when they last checked in is hidden by Customer's
 * own field resolvers, per viewer.)
 */
export const customerOf = (customer: Customer | null, scope: Scope, event: LoggedEvent) =>
  customer && scope.allows(event.studioId) ? customer : null;

/** The `customerIds` argument, checked: the events whose entityId is one of them. */
export const selectCustomers = (args: CustomerSubscriptionArgs) => ({ entityIds: idsArgument(args.customerIds, 'customerIds') });

/** The customer record's own events. */
export const CUSTOMER_EVENTS = family({
  payload: CustomerEventPayload,
  args: CustomerSubscriptionArgs,
  select: selectCustomers,
  load: async (event, dataSource) => ({ customer: await loadCustomer(event, dataSource) }),
  visible: ({ customer }, scope, event) => ({ customer: customerOf(customer, scope, event) }),
  member: 'entity',
});
