import type { AreaDeclarations } from './event-declaration.js';

/** The studio's money: debt collection and bookkeeping exports. */
export const FINANCE_EVENTS = {
  FINANCE_DEBT_COLLECTION_RUN_CREATED: {
    area: 'finance',
    entity: 'debt-collection run',
    content: {},
    description: 'A debt-collection run (one batch of outstanding customer payments collected together) was created; content is empty.',
    subscription: { field: 'debtCollectionRunCreated', happened: 'A debt-collection run was created', records: 'the run' },
  },
  TAX_ADVISOR_EXPORT_CREATED: {
    area: 'finance',
    entity: 'tax-advisor export',
    content: {},
    description: "An export of the studio's bookkeeping data for its tax advisor was created; content is empty.",
    subscription: { field: 'taxAdvisorExportCreated', happened: 'A tax-advisor export was created', records: 'the export' },
  },
} as const satisfies AreaDeclarations<'finance'>;
