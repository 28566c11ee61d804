import type { AreaModule } from '../area-module.js';
import { hydrationTarget } from '../hydration-target.js';

const contractTargets = (event: { entityId: number }) => [
  // No get-by-id upstream: one read of the customer's contract list serves all of them, with the
  // contracts' idle periods and additional modules.
  hydrationTarget('contracts', event.entityId),
  hydrationTarget('customer', event.entityId, 'ensure'),
];

/**
 * Membership contracts: entityId is the customer, content.contractId the contract; idle periods
 * (content.idlePeriodId) and additional modules (content.moduleContractId) are records under it.
 */
export const CONTRACT_AREA = {
  project: {
    CONTRACT_CREATED: (event, records) => {
      records.customers.touch(event, event.entityId);
      records.contracts.apply(event);
    },
    CONTRACT_UPDATED: (event, records) => {
      records.customers.touch(event, event.entityId);
      records.contracts.apply(event);
    },
    CONTRACT_CANCELLED: (event, records) => {
      records.customers.touch(event, event.entityId);
      records.contracts.apply(event);
    },
    CONTRACT_IDLE_PERIOD_CREATED: (event, records) => {
      records.customers.touch(event, event.entityId);
      records.contracts.touch(event);
      records.idlePeriods.apply(event);
    },
    CONTRACT_IDLE_PERIOD_UPDATED: (event, records) => {
      records.customers.touch(event, event.entityId);
      records.contracts.touch(event);
      records.idlePeriods.apply(event);
    },
    CONTRACT_IDLE_PERIOD_CANCELLED: (event, records) => {
      records.customers.touch(event, event.entityId);
      records.contracts.touch(event);
      records.idlePeriods.apply(event);
    },
    CONTRACT_ADDITIONAL_MODULE_CREATED: (event, records) => {
      records.customers.touch(event, event.entityId);
      records.contracts.touch(event);
      records.additionalModules.apply(event);
    },
    CONTRACT_ADDITIONAL_MODULE_UPDATED: (event, records) => {
      records.customers.touch(event, event.entityId);
      records.contracts.touch(event);
      records.additionalModules.apply(event);
    },
    CONTRACT_ADDITIONAL_MODULE_DELETED: (event, records) => {
      records.customers.touch(event, event.entityId);
      records.contracts.touch(event);
      records.additionalModules.apply(event);
    },
    CONTRACT_ADDITIONAL_MODULE_CANCELLED: (event, records) => {
      records.customers.touch(event, event.entityId);
      records.contracts.touch(event);
      records.additionalModules.apply(event);
    },
  },
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
} as const satisfies AreaModule<'contracts'>;
