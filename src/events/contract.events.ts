import { id } from './content.js';
import type { AreaDeclarations } from './event-declaration.js';

/** Membership contracts. entityId: the customer holding the contract; content.contractId: the contract. */
export const CONTRACT_EVENTS = {
  CONTRACT_CREATED: {
    area: 'contracts',
    entity: 'customer',
    content: { contractId: id },
    description: 'A membership contract was created for the customer; content.contractId is the id of the new contract.',
    subscription: { field: 'contractCreated', happened: 'A contract was created', records: 'the contract and the customer holding it' },
  },
  CONTRACT_UPDATED: {
    area: 'contracts',
    entity: 'customer',
    content: { contractId: id },
    description: "One of the customer's membership contracts changed; content.contractId is the id of the contract that changed.",
    subscription: { field: 'contractUpdated', happened: 'A contract changed', records: 'the contract and the customer holding it' },
  },
} as const satisfies AreaDeclarations<'contracts'>;
