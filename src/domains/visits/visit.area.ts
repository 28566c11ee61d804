import type { AreaModule } from '../area-module.js';
import { hydrationTarget } from '../hydration-target.js';
import { VISIT_RECONCILE } from './visit.reconcile.js';
import { AUTOMATIC_CHECKOUT_EVENTS, VISIT_EVENTS } from './visit.subscriptions.js';

/** Presence: check-ins and check-outs open and close visits, and mark the customer. */
export const VISIT_AREA = {
  project: {
    CUSTOMER_CHECKIN: (event, records) => {
      records.customers.checkedIn(event);
      records.visits.apply(event);
    },
    CUSTOMER_CHECKOUT: (event, records) => {
      records.customers.checkedOut(event);
      records.visits.apply(event);
    },
    AUTOMATIC_CUSTOMER_CHECKOUT: (event, records) => {
      // entityId is the studio: each listed customer is checked out at their own time.
      for (const checkout of event.content.checkouts) {
        records.customers.checkedOut({ ...event, entityId: checkout.customerId, occurredAt: checkout.checkoutAt });
      }
      records.visits.applyAutomatic(event);
    },
  },
  hydrators: {},
  hydrate: {
    // A check-in only mentions the customer: read once if never read.
    CUSTOMER_CHECKIN: (event) => [hydrationTarget('customer', event.entityId, 'ensure')],
    CUSTOMER_CHECKOUT: (event) => [hydrationTarget('customer', event.entityId, 'ensure')],
    // The check-outs are in the event; each customer is read once if we have never read them.
    AUTOMATIC_CUSTOMER_CHECKOUT: (event) =>
      event.content.checkouts.map((checkout) => hydrationTarget('customer', checkout.customerId, 'ensure')),
  },
  reconcile: { checkins: VISIT_RECONCILE, checkouts: VISIT_RECONCILE },
  subscribe: {
    CUSTOMER_CHECKIN: VISIT_EVENTS,
    CUSTOMER_CHECKOUT: VISIT_EVENTS,
    AUTOMATIC_CUSTOMER_CHECKOUT: AUTOMATIC_CHECKOUT_EVENTS,
  },
} as const satisfies AreaModule<'visits'>;
