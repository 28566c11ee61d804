import type { KnownEventType } from '../ingest/event-types.js';

/** What a partner needs to know about one upstream event type. */
export interface EventTypeInfo {
  /** What the webhook's `entityId` identifies, in words: `customer`, `class slot`, ... */
  readonly entity: string;
  /** One sentence for someone who has never seen the upstream, naming the `content` field it carries. */
  readonly description: string;
}

/**
 * Every known event type, described. Keyed by {@link KnownEventType}, so adding a type to
 * `KNOWN_EVENT_TYPES` without describing it here fails to compile.
 */
export const EVENT_TYPE_CATALOG: { readonly [T in KnownEventType]: EventTypeInfo } = {
  AGGREGATOR_MEMBER_CREATED: {
    entity: 'customer',
    description:
      'The customer became a member through a fitness aggregator (a partner platform that sells access to many gyms); content.aggregatorId is the customer\'s id at that aggregator.',
  },
  AUTOMATIC_CUSTOMER_CHECKOUT: {
    entity: 'studio',
    description:
      'The studio checked customers out itself (for example at closing time); entityId is the upstream studio id and content.checkouts lists each customer as {customerId, checkoutTime}, which closes that customer\'s open visit at that time.',
  },
  APPOINTMENT_BOOKING_CANCELLED: {
    entity: 'appointment booking',
    description: 'A booked appointment (a one-to-one service such as a personal-training session) was cancelled; content is empty.',
  },
  APPOINTMENT_BOOKING_CREATED: {
    entity: 'appointment booking',
    description: 'A customer booked an appointment (a one-to-one service such as a personal-training session); content is empty.',
  },
  APPOINTMENT_BOOKING_UPDATED: {
    entity: 'appointment booking',
    description: 'A booked appointment (a one-to-one service such as a personal-training session) changed; content is empty.',
  },
  CONTRACT_CREATED: {
    entity: 'customer',
    description: 'A membership contract was created for the customer; content.contractId is the id of the new contract.',
  },
  CONTRACT_UPDATED: {
    entity: 'customer',
    description: 'One of the customer\'s membership contracts changed; content.contractId is the id of the contract that changed.',
  },
  CUSTOMER_CHECKIN: {
    entity: 'customer',
    description: 'The customer checked in at a studio (entered the gym), which opens a visit; content is empty.',
  },
  CUSTOMER_CHECKOUT: {
    entity: 'customer',
    description: 'The customer checked out of a studio (left the gym), which closes the visit their last check-in opened; content is empty.',
  },
  CUSTOMER_COMMUNICATION_PREFERENCES_UPDATED: {
    entity: 'customer',
    description: 'The customer changed their communication preferences (how and about what the studio may contact them); content is empty.',
  },
  CUSTOMER_CREATED: {
    entity: 'customer',
    description: 'A new customer was created at the studio; content is empty.',
  },
  CUSTOMER_DELETED: {
    entity: 'customer',
    description: 'The customer was deleted upstream; content is empty.',
  },
  CUSTOMER_UPDATED: {
    entity: 'customer',
    description: 'The customer\'s personal data (such as name, address or contact details) changed; content is empty.',
  },
  CLASS_BOOKING_CANCELLED: {
    entity: 'class booking',
    description: 'A customer\'s booking of a place in a group class was cancelled; content is empty.',
  },
  CLASS_BOOKING_CREATED: {
    entity: 'class booking',
    description: 'A customer booked a place in a group class (in one class slot); content is empty.',
  },
  CLASS_BOOKING_UPDATED: {
    entity: 'class booking',
    description: 'A customer\'s booking of a place in a group class changed; content is empty.',
  },
  CLASS_SLOT_CANCELLED: {
    entity: 'class slot',
    description: 'A class slot (one scheduled session of a group class) was cancelled; content.classId is the id of the class it belongs to.',
  },
  CLASS_SLOT_UPDATED: {
    entity: 'class slot',
    description: 'A class slot (one scheduled session of a group class) changed; content.classId is the id of the class it belongs to.',
  },
  DEVICE_CREATED: {
    entity: 'device',
    description: 'A device (hardware registered with the studio, such as a check-in terminal) was created; content is empty.',
  },
  FINANCE_DEBT_COLLECTION_RUN_CREATED: {
    entity: 'debt-collection run',
    description: 'A debt-collection run (one batch of outstanding customer payments collected together) was created; content is empty.',
  },
  TAX_ADVISOR_EXPORT_CREATED: {
    entity: 'tax-advisor export',
    description: 'An export of the studio\'s bookkeeping data for its tax advisor was created; content is empty.',
  },
};
