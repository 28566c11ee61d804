import { Field, ObjectType } from 'type-graphql';
import { CustomerSubscriptionArgs, RecordSubscriptionArgs } from '../../api/subscription.args.js';
import { SqlReader } from '../../db/sql-reader.js';
import { MAX_AUTOMATIC_CHECKOUTS } from '../../events/content.js';
import { Customer } from '../customers/customer.entity.js';
import { CUSTOMER_FIELD, customerOf, loadCustomer, selectCustomers } from '../customers/customer.subscriptions.js';
import { EventRecord } from '../events/event-record.entity.js';
import { EVENT_FIELD, family, ifWanted, ownedBy, recordAfter } from '../subscription-family.js';
import { Visit } from './visit.entity.js';

@ObjectType({ simpleResolvers: true, description: 'A check-in or check-out, with the visit it opened or closed and the customer.' })
export class VisitEventPayload {
  @Field(() => EventRecord, EVENT_FIELD) event!: EventRecord;
  @Field(() => Visit, recordAfter('The visit the event opened or closed')) visit!: Visit | null;
  @Field(() => Customer, CUSTOMER_FIELD) customer!: Customer | null;
}

@ObjectType({
  simpleResolvers: true,
  description: 'A studio checked customers out itself (AUTOMATIC_CUSTOMER_CHECKOUT), with the visits it closed.',
})
export class AutomaticCheckoutEventPayload {
  @Field(() => EventRecord, EVENT_FIELD) event!: EventRecord;
  @Field(() => [Visit], {
    description:
      'The visits this event closed, as they stand after it (those this token may see). A customer who was not checked in, or whose real check-out came first, has none.',
  })
  visits!: Visit[];
}

/** A customer's check-in or check-out. */
export const VISIT_EVENTS = family({
  payload: VisitEventPayload,
  args: CustomerSubscriptionArgs,
  select: selectCustomers,
  load: async (event, dataSource, wants) => {
    // A visit's id is its check-in's seq; a check-out is found by the seq it closed the visit with.
    // A seq names one event of the whole log, so no tenant condition: with one, SQLite walked the
    // tenant's visits through visits_customer instead of the two keys.
    const [visit, customer] = await Promise.all([
      ifWanted(wants, 'visit', () => SqlReader.of(dataSource).findFirst(Visit, [{ id: event.seq }, { checkoutSeq: event.seq }])),
      ifWanted(wants, 'customer', () => loadCustomer(event, dataSource)),
    ]);
    return { visit, customer };
  },
  visible: ({ visit, customer }, scope, event) => ({ visit: ownedBy(visit, scope), customer: customerOf(customer, scope, event) }),
  member: 'entity',
});

/** A studio's automatic check-out of the customers still checked in. */
export const AUTOMATIC_CHECKOUT_EVENTS = family({
  payload: AutomaticCheckoutEventPayload,
  args: RecordSubscriptionArgs,
  select: () => ({}),
  // A visit closed by it carries the event's seq as its check-out.
  load: async (event, dataSource) => ({
    visits: await SqlReader.of(dataSource).entities(
      dataSource
        .getRepository(Visit)
        .createQueryBuilder('visit')
        .where('visit.checkoutSeq = :seq', { seq: event.seq }) // a seq is the whole log's: no tenant needed
        .orderBy('visit.id')
        .limit(MAX_AUTOMATIC_CHECKOUTS),
    ),
  }),
  visible: ({ visits }, scope) => ({ visits: visits.filter((visit) => scope.allows(visit.studioId)) }),
  // It lists every customer the studio checked out (member-access.ts refuses it to members).
  member: 'forbidden',
});
