import { Field, ObjectType } from 'type-graphql';
import { ContractSubscriptionArgs, idsArgument } from '../../api/subscription.args.js';
import { SqlReader } from '../../db/sql-reader.js';
import type { LoggedEvent } from '../../events/logged-event.js';
import { Customer } from '../customers/customer.entity.js';
import { CUSTOMER_FIELD, customerOf, loadCustomer, selectCustomers } from '../customers/customer.subscriptions.js';
import { EventRecord } from '../events/event-record.entity.js';
import { EVENT_FIELD, contentId, family, ifWanted, inIds, ownedBy, recordAfter } from '../subscription-family.js';
import { ContractAdditionalModule } from './contract-additional-module.entity.js';
import { ContractIdlePeriod } from './contract-idle-period.entity.js';
import { Contract } from './contract.entity.js';

@ObjectType({ simpleResolvers: true, description: 'A contract created or changed, with the contract and the customer holding it.' })
export class ContractEventPayload {
  @Field(() => EventRecord, EVENT_FIELD) event!: EventRecord;
  @Field(() => Contract, recordAfter('The contract')) contract!: Contract | null;
  @Field(() => Customer, CUSTOMER_FIELD) customer!: Customer | null;
}

@ObjectType({
  simpleResolvers: true,
  description:
    "A contract's pause (idle period) created, changed or cancelled, with the idle period, the contract and the customer holding it.",
})
export class ContractIdlePeriodEventPayload {
  @Field(() => EventRecord, EVENT_FIELD) event!: EventRecord;
  @Field(() => ContractIdlePeriod, recordAfter('The idle period')) idlePeriod!: ContractIdlePeriod | null;
  @Field(() => Contract, recordAfter('The paused contract')) contract!: Contract | null;
  @Field(() => Customer, CUSTOMER_FIELD) customer!: Customer | null;
}

@ObjectType({
  simpleResolvers: true,
  description:
    "A contract's additional module created, changed, cancelled or deleted, with the module, the main contract and the customer holding it.",
})
export class ContractAdditionalModuleEventPayload {
  @Field(() => EventRecord, EVENT_FIELD) event!: EventRecord;
  @Field(() => ContractAdditionalModule, recordAfter('The additional module')) additionalModule!: ContractAdditionalModule | null;
  @Field(() => Contract, recordAfter('The main contract')) contract!: Contract | null;
  @Field(() => Customer, CUSTOMER_FIELD) customer!: Customer | null;
}

/** `customerIds` (the entityId) and `contractIds` (`content.contractId`), checked. */
const selectContracts = (args: ContractSubscriptionArgs) => ({
  ...selectCustomers(args),
  content: inIds(idsArgument(args.contractIds, 'contractIds'), 'contractId'),
});

/** The contract an event names (`content.contractId`). */
const loadContract = (reader: SqlReader, event: LoggedEvent) =>
  reader.findOne(Contract, { tenantId: event.tenantId, contractId: contentId(event, 'contractId') });

/** A contract's own events. */
export const CONTRACT_EVENTS = family({
  payload: ContractEventPayload,
  args: ContractSubscriptionArgs,
  select: selectContracts,
  load: async (event, dataSource, wants) => {
    const [contract, customer] = await Promise.all([
      ifWanted(wants, 'contract', () => loadContract(SqlReader.of(dataSource), event)),
      ifWanted(wants, 'customer', () => loadCustomer(event, dataSource)),
    ]);
    return { contract, customer };
  },
  visible: ({ contract, customer }, scope, event) => ({
    contract: ownedBy(contract, scope),
    customer: customerOf(customer, scope, event),
  }),
  member: 'entity',
});

/** The events of a contract's idle periods. */
export const CONTRACT_IDLE_PERIOD_EVENTS = family({
  payload: ContractIdlePeriodEventPayload,
  args: ContractSubscriptionArgs,
  select: selectContracts,
  load: async (event, dataSource, wants) => {
    const reader = SqlReader.of(dataSource);
    const [idlePeriod, contract, customer] = await Promise.all([
      ifWanted(wants, 'idlePeriod', () =>
        reader.findOne(ContractIdlePeriod, { tenantId: event.tenantId, idlePeriodId: contentId(event, 'idlePeriodId') }),
      ),
      ifWanted(wants, 'contract', () => loadContract(reader, event)),
      ifWanted(wants, 'customer', () => loadCustomer(event, dataSource)),
    ]);
    return { idlePeriod, contract, customer };
  },
  visible: ({ idlePeriod, contract, customer }, scope, event) => ({
    idlePeriod: ownedBy(idlePeriod, scope),
    contract: ownedBy(contract, scope),
    customer: customerOf(customer, scope, event),
  }),
  member: 'entity',
});

/** The events of a contract's additional modules. */
export const CONTRACT_ADDITIONAL_MODULE_EVENTS = family({
  payload: ContractAdditionalModuleEventPayload,
  args: ContractSubscriptionArgs,
  select: selectContracts,
  load: async (event, dataSource, wants) => {
    const reader = SqlReader.of(dataSource);
    const [additionalModule, contract, customer] = await Promise.all([
      ifWanted(wants, 'additionalModule', () =>
        reader.findOne(ContractAdditionalModule, { tenantId: event.tenantId, moduleContractId: contentId(event, 'moduleContractId') }),
      ),
      ifWanted(wants, 'contract', () => loadContract(reader, event)),
      ifWanted(wants, 'customer', () => loadCustomer(event, dataSource)),
    ]);
    return { additionalModule, contract, customer };
  },
  visible: ({ additionalModule, contract, customer }, scope, event) => ({
    additionalModule: ownedBy(additionalModule, scope),
    contract: ownedBy(contract, scope),
    customer: customerOf(customer, scope, event),
  }),
  member: 'entity',
});
