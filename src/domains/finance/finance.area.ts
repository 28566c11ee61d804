import type { AreaModule } from '../area-module.js';
import { hydrationTarget } from '../hydration-target.js';
import { FINANCE_HYDRATORS } from './finance.hydrators.js';
import {
  DEBT_COLLECTION_CASE_EVENTS,
  DEBT_COLLECTION_CONFIGURATION_EVENTS,
  DEBT_COLLECTION_RUN_EVENTS,
  TAX_ADVISOR_EXPORT_EVENTS,
} from './finance.subscriptions.js';

/**
 * Debt-collection runs and tax-advisor exports (entityId: the run or the export), debt-collection
 * cases (entityId: the case adjustment request; the case is named in content) and the studio's
 * debt-collection configuration (entityId not stated upstream: kept as it came).
 */
export const FINANCE_AREA = {
  project: {
    FINANCE_DEBT_COLLECTION_RUN_CREATED: (event, records) => records.debtRuns.apply(event),
    TAX_ADVISOR_EXPORT_CREATED: (event, records) => records.taxExports.apply(event),
    FINANCE_DEBT_COLLECTION_CONFIGURATION_UPDATED: (event, records) => records.debtCollectionConfigurations.apply(event),
    FINANCE_DEBT_COLLECTION_CASE_UPDATED: (event, records) => records.debtCollectionCases.apply(event),
  },
  hydrators: FINANCE_HYDRATORS,
  hydrate: {
    FINANCE_DEBT_COLLECTION_RUN_CREATED: (event) => [hydrationTarget('debt_collection_run', event.entityId)],
    TAX_ADVISOR_EXPORT_CREATED: (event) => [hydrationTarget('tax_advisor_export', event.entityId)],
    // The Open API has no read for debt-collection settings or cases.
    FINANCE_DEBT_COLLECTION_CONFIGURATION_UPDATED: () => [],
    FINANCE_DEBT_COLLECTION_CASE_UPDATED: () => [],
  },
  reconcile: {},
  subscribe: {
    FINANCE_DEBT_COLLECTION_RUN_CREATED: DEBT_COLLECTION_RUN_EVENTS,
    TAX_ADVISOR_EXPORT_CREATED: TAX_ADVISOR_EXPORT_EVENTS,
    FINANCE_DEBT_COLLECTION_CONFIGURATION_UPDATED: DEBT_COLLECTION_CONFIGURATION_EVENTS,
    FINANCE_DEBT_COLLECTION_CASE_UPDATED: DEBT_COLLECTION_CASE_EVENTS,
  },
} as const satisfies AreaModule<'finance'>;
