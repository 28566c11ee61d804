import { foreignId } from './content.js';
import type { AreaDeclarations } from './event-declaration.js';

/** Memberships sold through fitness aggregators. */
export const AGGREGATOR_EVENTS = {
  AGGREGATOR_MEMBER_CREATED: {
    area: 'aggregators',
    entity: 'customer',
    content: { aggregatorId: foreignId },
    description:
      "The customer became a member through a fitness aggregator (a partner platform that sells access to many gyms); content.aggregatorId is the customer's id at that aggregator.",
    subscription: {
      field: 'aggregatorMemberCreated',
      happened: 'A customer joined through an aggregator',
      records: 'the membership and the customer',
    },
  },
} as const satisfies AreaDeclarations<'aggregators'>;
