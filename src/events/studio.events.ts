import type { AreaDeclarations } from './event-declaration.js';

/**
 * The studio itself (the sister platform's types): entityId is the **upstream** studio id, while the
 * webhook key says which of our studios delivered it (src/domains/studios/studio.area.ts: what
 * happens when the two disagree).
 */
export const STUDIO_EVENTS = {
  STUDIO_OPENING_HOURS_UPDATED: {
    area: 'studios',
    entity: 'studio',
    content: {},
    description:
      "The studio's opening hours or closures changed; entityId is the upstream studio id and content is empty (the hours themselves are read from the Open API).",
    subscription: { field: 'studioOpeningHoursUpdated', happened: "A studio's opening hours changed", records: 'the studio' },
  },
  ADDITIONAL_INFORMATION_FIELDS_UPDATED: {
    area: 'studios',
    entity: 'studio',
    content: {},
    description:
      'The custom fields the studio keeps about its customers (additional information fields) changed; entityId is the upstream studio id and content is empty.',
    subscription: {
      field: 'studioAdditionalInformationFieldsUpdated',
      happened: "A studio's additional information fields changed",
      records: 'the studio',
    },
  },
} as const satisfies AreaDeclarations<'studios'>;
