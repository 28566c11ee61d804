import { atLeastOneOf, id, optional } from './content.js';
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
  FINANCE_DEBT_COLLECTION_CONFIGURATION_UPDATED: {
    area: 'finance',
    // The upstream does not say what entityId is: kept as it came, never looked up.
    entity: 'debt-collection configuration (not stated upstream: opaque)',
    content: {},
    description:
      "The studio's debt-collection settings changed; what entityId identifies is not stated upstream (it is kept as it came) and content is empty.",
    subscription: {
      field: 'debtCollectionConfigurationUpdated',
      happened: "A studio's debt-collection settings changed",
      records: 'the configuration record',
    },
  },
  FINANCE_DEBT_COLLECTION_CASE_UPDATED: {
    area: 'finance',
    entity: 'case adjustment request',
    content: { agencyDebtCollectionCaseId: optional(id), collectionCaseId: optional(id) },
    rules: [atLeastOneOf('agencyDebtCollectionCaseId', 'collectionCaseId')],
    description:
      'A debt-collection case changed through an adjustment request (entityId: the caseAdjustmentRequestId); content.agencyDebtCollectionCaseId names the case at the collection agency when it is there, otherwise content.collectionCaseId names it.',
    subscription: { field: 'debtCollectionCaseUpdated', happened: 'A debt-collection case changed', records: 'the case' },
  },
} as const satisfies AreaDeclarations<'finance'>;
