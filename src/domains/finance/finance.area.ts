import type { AreaModule } from '../area-module.js';
import { hydrationTarget } from '../hydration-target.js';

/** Debt-collection runs and tax-advisor exports: entityId is the run or the export. */
export const FINANCE_AREA = {
  project: {
    FINANCE_DEBT_COLLECTION_RUN_CREATED: (event, records) => records.debtRuns.apply(event),
    TAX_ADVISOR_EXPORT_CREATED: (event, records) => records.taxExports.apply(event),
  },
  hydrate: {
    FINANCE_DEBT_COLLECTION_RUN_CREATED: (event) => [hydrationTarget('debt_collection_run', event.entityId)],
    TAX_ADVISOR_EXPORT_CREATED: (event) => [hydrationTarget('tax_advisor_export', event.entityId)],
  },
} as const satisfies AreaModule<'finance'>;
