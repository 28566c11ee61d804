import { checkouts } from './content.js';
import type { AreaDeclarations } from './event-declaration.js';

/** Presence in a studio: the check-ins and check-outs that open and close visits. */
export const VISIT_EVENTS = {
  CUSTOMER_CHECKIN: {
    area: 'visits',
    entity: 'customer',
    content: {},
    description: 'The customer checked in at a studio (entered the gym), which opens a visit; content is empty.',
    subscription: { field: 'customerCheckedIn', happened: 'A customer checked in', records: 'the visit it opened and the customer' },
  },
  CUSTOMER_CHECKOUT: {
    area: 'visits',
    entity: 'customer',
    content: {},
    description:
      'The customer checked out of a studio (left the gym), which closes the visit their last check-in opened; content is empty.',
    subscription: {
      field: 'customerCheckedOut',
      happened: 'A customer checked out',
      records: 'the visit it closed (or a visit without check-in) and the customer',
    },
  },
  AUTOMATIC_CUSTOMER_CHECKOUT: {
    area: 'visits',
    entity: 'studio',
    content: { checkouts },
    description:
      "The studio checked customers out itself (for example at closing time); entityId is the upstream studio id and content.checkouts lists each customer as {customerId, checkoutTime}, which closes that customer's open visit at that time.",
    subscription: {
      field: 'customersCheckedOutAutomatically',
      happened: 'A studio checked customers out itself',
      records: 'the visits it closed',
    },
  },
} as const satisfies AreaDeclarations<'visits'>;
