import type { EventOf } from '../../events/event-catalog.js';
import type { AreaModule } from '../area-module.js';
import type { BatchProjectors } from '../batch-projectors.js';
import { hydrationTarget } from '../hydration-target.js';
import { CONTRACT_HYDRATORS } from './contract.hydrators.js';
import { CONTRACT_RECONCILE } from './contract.reconcile.js';
import { CONTRACT_ADDITIONAL_MODULE_EVENTS, CONTRACT_EVENTS, CONTRACT_IDLE_PERIOD_EVENTS } from './contract.subscriptions.js';

const contractTargets = (event: { entityId: number }) => [
  // No get-by-id upstream: one read of the customer's contract list serves all of them, with the
  // contracts' idle periods and additional modules.
  hydrationTarget('contracts', event.entityId),
  hydrationTarget('customer', event.entityId, 'ensure'),
];

type IdlePeriodType = 'CONTRACT_IDLE_PERIOD_CREATED' | 'CONTRACT_IDLE_PERIOD_UPDATED' | 'CONTRACT_IDLE_PERIOD_CANCELLED';
type ModuleType =
  | 'CONTRACT_ADDITIONAL_MODULE_CREATED'
  | 'CONTRACT_ADDITIONAL_MODULE_UPDATED'
  | 'CONTRACT_ADDITIONAL_MODULE_DELETED'
  | 'CONTRACT_ADDITIONAL_MODULE_CANCELLED';

/** A change of the contract itself: the customer's activity, and the contract's record. */
const contractChanged = (event: EventOf<'CONTRACT_CREATED' | 'CONTRACT_UPDATED' | 'CONTRACT_CANCELLED'>, records: BatchProjectors) => {
  records.customers.touch(event, event.entityId);
  records.contracts.apply(event);
};

/** A change of a part under the contract: the customer's activity, the contract's latest event, and the part's record. */
const idlePeriodChanged = (event: EventOf<IdlePeriodType>, records: BatchProjectors) => {
  records.customers.touch(event, event.entityId);
  records.contracts.touch(event);
  records.idlePeriods.apply(event);
};
const moduleChanged = (event: EventOf<ModuleType>, records: BatchProjectors) => {
  records.customers.touch(event, event.entityId);
  records.contracts.touch(event);
  records.additionalModules.apply(event);
};

/**
 * Membership contracts: entityId is the customer, content.contractId the contract; idle periods
 * (content.idlePeriodId) and additional modules (content.moduleContractId) are records under it.
 */
export const CONTRACT_AREA = {
  project: {
    CONTRACT_CREATED: contractChanged,
    CONTRACT_UPDATED: contractChanged,
    CONTRACT_CANCELLED: contractChanged,
    CONTRACT_IDLE_PERIOD_CREATED: idlePeriodChanged,
    CONTRACT_IDLE_PERIOD_UPDATED: idlePeriodChanged,
    CONTRACT_IDLE_PERIOD_CANCELLED: idlePeriodChanged,
    CONTRACT_ADDITIONAL_MODULE_CREATED: moduleChanged,
    CONTRACT_ADDITIONAL_MODULE_UPDATED: moduleChanged,
    CONTRACT_ADDITIONAL_MODULE_DELETED: moduleChanged,
    CONTRACT_ADDITIONAL_MODULE_CANCELLED: moduleChanged,
  },
  hydrators: CONTRACT_HYDRATORS,
  hydrate: {
    CONTRACT_CREATED: contractTargets,
    CONTRACT_UPDATED: contractTargets,
    CONTRACT_CANCELLED: contractTargets,
    CONTRACT_IDLE_PERIOD_CREATED: contractTargets,
    CONTRACT_IDLE_PERIOD_UPDATED: contractTargets,
    CONTRACT_IDLE_PERIOD_CANCELLED: contractTargets,
    CONTRACT_ADDITIONAL_MODULE_CREATED: contractTargets,
    CONTRACT_ADDITIONAL_MODULE_UPDATED: contractTargets,
    CONTRACT_ADDITIONAL_MODULE_DELETED: contractTargets,
    CONTRACT_ADDITIONAL_MODULE_CANCELLED: contractTargets,
  },
  reconcile: { contracts: CONTRACT_RECONCILE },
  subscribe: {
    CONTRACT_CREATED: CONTRACT_EVENTS,
    CONTRACT_UPDATED: CONTRACT_EVENTS,
    CONTRACT_CANCELLED: CONTRACT_EVENTS,
    CONTRACT_IDLE_PERIOD_CREATED: CONTRACT_IDLE_PERIOD_EVENTS,
    CONTRACT_IDLE_PERIOD_UPDATED: CONTRACT_IDLE_PERIOD_EVENTS,
    CONTRACT_IDLE_PERIOD_CANCELLED: CONTRACT_IDLE_PERIOD_EVENTS,
    CONTRACT_ADDITIONAL_MODULE_CREATED: CONTRACT_ADDITIONAL_MODULE_EVENTS,
    CONTRACT_ADDITIONAL_MODULE_UPDATED: CONTRACT_ADDITIONAL_MODULE_EVENTS,
    CONTRACT_ADDITIONAL_MODULE_DELETED: CONTRACT_ADDITIONAL_MODULE_EVENTS,
    CONTRACT_ADDITIONAL_MODULE_CANCELLED: CONTRACT_ADDITIONAL_MODULE_EVENTS,
  },
} as const satisfies AreaModule<'contracts'>;
