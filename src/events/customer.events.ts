import { id } from './content.js';
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
    subscription: {
      field: 'customerCommunicationPreferencesUpdated',
      happened: "A customer's communication preferences changed",
      records: 'the customer',
    },
  },
  CUSTOMER_ACCESS_DISABLED: {
    area: 'customers',
    entity: 'customer',
    content: {},
    description:
      "The operator revoked the customer's access; from then on the upstream no longer lets the customer's data be read, so the personal data held here is erased (the record stays as a tombstone). Content is empty.",
    subscription: { field: 'customerAccessDisabled', happened: "A customer's access was disabled", records: 'the customer' },
  },
  CUSTOMER_HOME_STUDIO_UPDATED: {
    area: 'customers',
    entity: 'customer',
    content: { sourceStudioId: id, targetStudioId: id },
    description:
      'The customer moved to another home studio; content.sourceStudioId is the upstream id of the studio they left and content.targetStudioId that of their new home studio.',
    subscription: { field: 'customerHomeStudioUpdated', happened: "A customer's home studio changed", records: 'the customer' },
  },
  CUSTOMER_CHECKIN_STUDIOS_UPDATED: {
    area: 'customers',
    entity: 'customer',
    content: { contractId: id },
    description: 'The studios the customer may check in at changed; content.contractId is the id of the contract that grants them.',
    subscription: {
      field: 'customerCheckinStudiosUpdated',
      happened: 'The studios a customer may check in at changed',
      records: 'the customer',
    },
  },
  CUSTOMER_ACCESS_MEDIUM_CREATED: {
    area: 'customers',
    entity: 'customer',
    content: {},
    description: 'The customer was given an access medium (a card, tag or similar that opens the gates); content is empty.',
    subscription: { field: 'customerAccessMediumCreated', happened: 'A customer was given an access medium', records: 'the customer' },
  },
  CUSTOMER_ACCESS_MEDIUM_UPDATED: {
    area: 'customers',
    entity: 'customer',
    content: {},
    description:
      "One of the customer's access media (a card, tag or similar that opens the gates) changed, for example a lost card was replaced; content is empty.",
    subscription: { field: 'customerAccessMediumUpdated', happened: "A customer's access medium changed", records: 'the customer' },
  },
  CUSTOMER_ACCESS_MEDIUM_DELETED: {
    area: 'customers',
    entity: 'customer',
    content: {},
    description: "One of the customer's access media (a card, tag or similar that opens the gates) was taken away; content is empty.",
    subscription: { field: 'customerAccessMediumDeleted', happened: "A customer's access medium was removed", records: 'the customer' },
  },
  CUSTOMER_ACCESS_RESTRICTION_CREATED: {
    area: 'customers',
    entity: 'customer',
    content: {},
    description:
      'An access restriction was set on the customer (the studios refuse them entry, for example over unpaid fees); content is empty.',
    subscription: {
      field: 'customerAccessRestrictionCreated',
      happened: 'An access restriction was set on a customer',
      records: 'the customer',
    },
  },
  CUSTOMER_ACCESS_RESTRICTION_DELETED: {
    area: 'customers',
    entity: 'customer',
    content: {},
    description: 'An access restriction on the customer was lifted; content is empty.',
    subscription: {
      field: 'customerAccessRestrictionDeleted',
      happened: 'An access restriction on a customer was lifted',
      records: 'the customer',
    },
  },
} as const satisfies AreaDeclarations<'customers'>;
