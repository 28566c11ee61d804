import { count, id, optional } from './content.js';
import type { AreaDeclarations } from './event-declaration.js';

/** An idle period's content: the contract paused, the pause, and its length if limited. */
const IDLE_PERIOD = { contractId: id, idlePeriodId: id, idlePeriodAmount: optional(count), usedFreeTermsInDays: optional(count) } as const;
/** An additional module's content: the main contract, and the module's own contract id. */
const ADDITIONAL_MODULE = { contractId: id, moduleContractId: id } as const;
const IDLE_PERIOD_RECORDS = 'the idle period, the contract and the customer holding it';
const MODULE_RECORDS = 'the additional module, the main contract and the customer holding it';

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
  CONTRACT_CANCELLED: {
    area: 'contracts',
    entity: 'customer',
    content: { contractId: id },
    description:
      "One of the customer's contracts was cancelled (it may run on to its end date); content.contractId is the id of the cancelled contract.",
    subscription: { field: 'contractCancelled', happened: 'A contract was cancelled', records: 'the contract and the customer holding it' },
  },
  CONTRACT_IDLE_PERIOD_CREATED: {
    area: 'contracts',
    entity: 'customer',
    content: IDLE_PERIOD,
    description:
      "A pause (idle period) was added to one of the customer's contracts; content.contractId is the contract, content.idlePeriodId the pause, " +
      'content.idlePeriodAmount its length (absent when unlimited) and content.usedFreeTermsInDays the free days it uses (if any).',
    subscription: {
      field: 'contractIdlePeriodCreated',
      happened: 'A contract was paused (an idle period was created)',
      records: IDLE_PERIOD_RECORDS,
    },
  },
  CONTRACT_IDLE_PERIOD_UPDATED: {
    area: 'contracts',
    entity: 'customer',
    content: IDLE_PERIOD,
    description:
      "A pause (idle period) of one of the customer's contracts changed; content.contractId is the contract, content.idlePeriodId the pause, " +
      'content.idlePeriodAmount its length (absent when unlimited) and content.usedFreeTermsInDays the free days it uses (if any).',
    subscription: { field: 'contractIdlePeriodUpdated', happened: "A contract's idle period changed", records: IDLE_PERIOD_RECORDS },
  },
  CONTRACT_IDLE_PERIOD_CANCELLED: {
    area: 'contracts',
    entity: 'customer',
    content: IDLE_PERIOD,
    description:
      "A pause (idle period) of one of the customer's contracts was cancelled; content.contractId is the contract, content.idlePeriodId the pause " +
      '(content.idlePeriodAmount and content.usedFreeTermsInDays as for its creation).',
    subscription: {
      field: 'contractIdlePeriodCancelled',
      happened: "A contract's idle period was cancelled",
      records: IDLE_PERIOD_RECORDS,
    },
  },
  CONTRACT_ADDITIONAL_MODULE_CREATED: {
    area: 'contracts',
    entity: 'customer',
    content: ADDITIONAL_MODULE,
    description:
      "An add-on module was added to one of the customer's contracts; content.contractId is the main contract, content.moduleContractId the module's own contract id.",
    subscription: {
      field: 'contractAdditionalModuleCreated',
      happened: 'An additional module was added to a contract',
      records: MODULE_RECORDS,
    },
  },
  CONTRACT_ADDITIONAL_MODULE_UPDATED: {
    area: 'contracts',
    entity: 'customer',
    content: ADDITIONAL_MODULE,
    description:
      "An add-on module of one of the customer's contracts changed; content.contractId is the main contract, content.moduleContractId the module's own contract id.",
    subscription: { field: 'contractAdditionalModuleUpdated', happened: "A contract's additional module changed", records: MODULE_RECORDS },
  },
  CONTRACT_ADDITIONAL_MODULE_DELETED: {
    area: 'contracts',
    entity: 'customer',
    content: ADDITIONAL_MODULE,
    description:
      "An add-on module of one of the customer's contracts was deleted (gone upstream); content.contractId is the main contract, content.moduleContractId the module.",
    subscription: {
      field: 'contractAdditionalModuleDeleted',
      happened: "A contract's additional module was deleted",
      records: MODULE_RECORDS,
    },
  },
  CONTRACT_ADDITIONAL_MODULE_CANCELLED: {
    area: 'contracts',
    entity: 'customer',
    content: ADDITIONAL_MODULE,
    description:
      "An add-on module of one of the customer's contracts was cancelled (it may run on to its end date); content.contractId is the main contract, content.moduleContractId the module.",
    subscription: {
      field: 'contractAdditionalModuleCancelled',
      happened: "A contract's additional module was cancelled",
      records: MODULE_RECORDS,
    },
  },
} as const satisfies AreaDeclarations<'contracts'>;
