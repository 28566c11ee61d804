import type { AreaDeclarations } from './event-declaration.js';

/** Changes to the customer record itself. entityId: the upstream customer id. */
export const CUSTOMER_EVENTS = {
  CUSTOMER_CREATED: {
    area: 'customers',
    entity: 'customer',
    content: {},
    description: 'A new customer was created at the studio; content is empty.',
    subscription: { field: 'customerCreated', happened: 'A customer was created', records: 'the customer' },
  },
  CUSTOMER_UPDATED: {
    area: 'customers',
    entity: 'customer',
    content: {},
    description: "The customer's personal data (such as name, address or contact details) changed; content is empty.",
    subscription: { field: 'customerUpdated', happened: "A customer's data changed", records: 'the customer' },
  },
  CUSTOMER_DELETED: {
    area: 'customers',
    entity: 'customer',
    content: {},
    description: 'The customer was deleted upstream; content is empty.',
    subscription: { field: 'customerDeleted', happened: 'A customer was deleted', records: 'the customer (now a tombstone)' },
  },
  CUSTOMER_COMMUNICATION_PREFERENCES_UPDATED: {
    area: 'customers',
    entity: 'customer',
    content: {},
    description: 'The customer changed their communication preferences (how and about what the studio may contact them); content is empty.',
    subscription: { field: 'customerCommunicationPreferencesUpdated', happened: "A customer's communication preferences changed", records: 'the customer' },
  },
} as const satisfies AreaDeclarations<'customers'>;
