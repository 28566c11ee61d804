import type { AreaModule } from '../area-module.js';
import { hydrationTarget } from '../hydration-target.js';
import type { ContractEvent } from './contract.projector.js';

const contractTargets = (event: ContractEvent) => [
  // No get-by-id upstream: one read of the customer's contract list serves all of them.
  hydrationTarget('contracts', event.entityId),
  hydrationTarget('customer', event.entityId, 'ensure'),
];

/** Membership contracts: entityId is the customer, content.contractId the contract. */
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
  },
  hydrate: { CONTRACT_CREATED: contractTargets, CONTRACT_UPDATED: contractTargets },
} as const satisfies AreaModule<'contracts'>;
