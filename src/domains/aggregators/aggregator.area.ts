import type { AreaModule } from '../area-module.js';
import { hydrationTarget } from '../hydration-target.js';
import { AGGREGATOR_MEMBERSHIP_EVENTS } from './aggregator.subscriptions.js';

/** Memberships sold through fitness aggregators: entityId is the customer. */
export const AGGREGATOR_AREA = {
  project: {
    AGGREGATOR_MEMBER_CREATED: (event, records) => {
      records.customers.touch(event, event.entityId);
      records.memberships.apply(event);
    },
  },
  hydrators: {},
  hydrate: {
    AGGREGATOR_MEMBER_CREATED: (event) => [hydrationTarget('customer', event.entityId)],
  },
  reconcile: {},
  subscribe: {
    AGGREGATOR_MEMBER_CREATED: AGGREGATOR_MEMBERSHIP_EVENTS,
  },
} as const satisfies AreaModule<'aggregators'>;
