import type { AreaModule } from '../area-module.js';
import { hydrationTarget } from '../hydration-target.js';
import { CUSTOMER_HYDRATORS } from './customer.hydrators.js';
import { CUSTOMER_RECONCILE, DELETED_CUSTOMER_RECONCILE } from './customer.reconcile.js';
import { CUSTOMER_EVENTS } from './customer.subscriptions.js';

/** The customer record's own events. */
export const CUSTOMER_AREA = {
  project: {
    CUSTOMER_CREATED: (event, records) => records.customers.created(event),
    CUSTOMER_UPDATED: (event, records) => records.customers.updated(event),
    CUSTOMER_DELETED: (event, records) => records.customers.deleted(event),
    CUSTOMER_COMMUNICATION_PREFERENCES_UPDATED: (event, records) => records.customers.preferencesUpdated(event),
    CUSTOMER_ACCESS_DISABLED: (event, records) => records.customers.accessDisabled(event),
    CUSTOMER_HOME_STUDIO_UPDATED: (event, records) =>
      records.customers.homeStudioUpdated(event, event.content.sourceStudioId, event.content.targetStudioId),
    CUSTOMER_CHECKIN_STUDIOS_UPDATED: (event, records) => records.customers.checkinStudiosUpdated(event, event.content.contractId),
    CUSTOMER_ACCESS_MEDIUM_CREATED: (event, records) => records.customers.accessMediumChanged(event, 'created'),
    CUSTOMER_ACCESS_MEDIUM_UPDATED: (event, records) => records.customers.accessMediumChanged(event, 'updated'),
    CUSTOMER_ACCESS_MEDIUM_DELETED: (event, records) => records.customers.accessMediumChanged(event, 'deleted'),
    CUSTOMER_ACCESS_RESTRICTION_CREATED: (event, records) => records.customers.accessRestrictionChanged(event, 'created'),
    CUSTOMER_ACCESS_RESTRICTION_DELETED: (event, records) => records.customers.accessRestrictionChanged(event, 'deleted'),
  },
  hydrators: CUSTOMER_HYDRATORS,
  hydrate: {
    CUSTOMER_CREATED: (event) => [hydrationTarget('customer', event.entityId)],
    CUSTOMER_UPDATED: (event) => [hydrationTarget('customer', event.entityId)],
    CUSTOMER_DELETED: (event) => [hydrationTarget('customer', event.entityId)],
    CUSTOMER_COMMUNICATION_PREFERENCES_UPDATED: (event) => [
      hydrationTarget('communication_preferences', event.entityId),
      hydrationTarget('customer', event.entityId, 'ensure'),
    ],
    // Not a read: the customer job of a customer whose access is disabled erases what is held and
    // never calls the upstream (it would answer 403).
    CUSTOMER_ACCESS_DISABLED: (event) => [hydrationTarget('customer', event.entityId)],
    // The answer's `studioId` is the home studio: read it again.
    CUSTOMER_HOME_STUDIO_UPDATED: (event) => [hydrationTarget('customer', event.entityId)],
    // The Open API has no read of the check-in studios; the customer is read if it never was.
    CUSTOMER_CHECKIN_STUDIOS_UPDATED: (event) => [hydrationTarget('customer', event.entityId, 'ensure')],
    // Nor of access media.
    CUSTOMER_ACCESS_MEDIUM_CREATED: (event) => [hydrationTarget('customer', event.entityId, 'ensure')],
    CUSTOMER_ACCESS_MEDIUM_UPDATED: (event) => [hydrationTarget('customer', event.entityId, 'ensure')],
    CUSTOMER_ACCESS_MEDIUM_DELETED: (event) => [hydrationTarget('customer', event.entityId, 'ensure')],
    // The answer's `accessRefusal` is whether any restriction is in force: read it again.
    CUSTOMER_ACCESS_RESTRICTION_CREATED: (event) => [hydrationTarget('customer', event.entityId)],
    CUSTOMER_ACCESS_RESTRICTION_DELETED: (event) => [hydrationTarget('customer', event.entityId)],
  },
  reconcile: { customers: CUSTOMER_RECONCILE, deletedCustomers: DELETED_CUSTOMER_RECONCILE },
  subscribe: {
    CUSTOMER_CREATED: CUSTOMER_EVENTS,
    CUSTOMER_UPDATED: CUSTOMER_EVENTS,
    CUSTOMER_DELETED: CUSTOMER_EVENTS,
    CUSTOMER_COMMUNICATION_PREFERENCES_UPDATED: CUSTOMER_EVENTS,
    CUSTOMER_ACCESS_DISABLED: CUSTOMER_EVENTS,
    CUSTOMER_HOME_STUDIO_UPDATED: CUSTOMER_EVENTS,
    CUSTOMER_CHECKIN_STUDIOS_UPDATED: CUSTOMER_EVENTS,
    CUSTOMER_ACCESS_MEDIUM_CREATED: CUSTOMER_EVENTS,
    CUSTOMER_ACCESS_MEDIUM_UPDATED: CUSTOMER_EVENTS,
    CUSTOMER_ACCESS_MEDIUM_DELETED: CUSTOMER_EVENTS,
    CUSTOMER_ACCESS_RESTRICTION_CREATED: CUSTOMER_EVENTS,
    CUSTOMER_ACCESS_RESTRICTION_DELETED: CUSTOMER_EVENTS,
  },
} as const satisfies AreaModule<'customers'>;
