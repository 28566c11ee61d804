import type { AreaModule } from '../area-module.js';
import { hydrationTarget } from '../hydration-target.js';

/** The customer record's own events. */
export const CUSTOMER_AREA = {
  project: {
    CUSTOMER_CREATED: (event, records) => records.customers.created(event),
    CUSTOMER_UPDATED: (event, records) => records.customers.updated(event),
    CUSTOMER_DELETED: (event, records) => records.customers.deleted(event),
    CUSTOMER_COMMUNICATION_PREFERENCES_UPDATED: (event, records) => records.customers.preferencesUpdated(event),
  },
  hydrate: {
    CUSTOMER_CREATED: (event) => [hydrationTarget('customer', event.entityId)],
    CUSTOMER_UPDATED: (event) => [hydrationTarget('customer', event.entityId)],
    CUSTOMER_DELETED: (event) => [hydrationTarget('customer', event.entityId)],
    CUSTOMER_COMMUNICATION_PREFERENCES_UPDATED: (event) => [
      hydrationTarget('communication_preferences', event.entityId),
      hydrationTarget('customer', event.entityId, 'ensure'),
    ],
  },
} as const satisfies AreaModule<'customers'>;
