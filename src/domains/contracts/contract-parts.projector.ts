import { RecordBatch, type RecordSpec } from '../../db/record-batch.js';
import { TENANT_RECORD_RULES, tenantRecordRow } from '../../db/tenant-record.js';
import type { EventOf } from '../../events/event-catalog.js';
import type { AdditionalModuleStatus } from './contract-additional-module.entity.js';
import type { IdlePeriodStatus } from './contract-idle-period.entity.js';
import { TABLES } from '../../db/tables.js';

export type IdlePeriodEvent = EventOf<'CONTRACT_IDLE_PERIOD_CREATED' | 'CONTRACT_IDLE_PERIOD_UPDATED' | 'CONTRACT_IDLE_PERIOD_CANCELLED'>;
export type AdditionalModuleEvent = EventOf<
  | 'CONTRACT_ADDITIONAL_MODULE_CREATED'
  | 'CONTRACT_ADDITIONAL_MODULE_UPDATED'
  | 'CONTRACT_ADDITIONAL_MODULE_DELETED'
  | 'CONTRACT_ADDITIONAL_MODULE_CANCELLED'
>;

/** `occurredAt` when `event` is of type `type`, else null (a time column only its own event sets). */
const when = (event: { type: string; occurredAt: number }, type: string): number | null => (event.type === type ? event.occurredAt : null);

type IdlePeriodRow = ReturnType<typeof idlePeriodRow>;

function idlePeriodRow(event: IdlePeriodEvent) {
  return tenantRecordRow(event, {
    idlePeriodId: event.content.idlePeriodId,
    contractId: event.content.contractId,
    customerId: event.entityId,
    status: (event.type === 'CONTRACT_IDLE_PERIOD_CANCELLED' ? 'CANCELLED' : 'ACTIVE') as IdlePeriodStatus,
    statusAt: event.occurredAt,
    createdAt: when(event, 'CONTRACT_IDLE_PERIOD_CREATED'),
    updatedAt: when(event, 'CONTRACT_IDLE_PERIOD_UPDATED'),
    cancelledAt: when(event, 'CONTRACT_IDLE_PERIOD_CANCELLED'),
    idlePeriodAmount: event.content.idlePeriodAmount,
    usedFreeTermsInDays: event.content.usedFreeTermsInDays,
  });
}

/**
 * Contract idle periods, keyed by (tenant, idlePeriodId). The latest event decides the status and a
 * cancellation wins a tie (the booking rule); the contract, the customer and the content's amounts
 * follow the latest event (absent amounts included: an unlimited pause has none), so duplicates and
 * any delivery order end in the same record. Two different events at the very same millisecond
 * keep the amounts of the one stored first.
 */
const IDLE_PERIODS: RecordSpec<IdlePeriodRow> = {
  table: TABLES.contract_idle_periods,
  columns: {
    ...TENANT_RECORD_RULES,
    idlePeriodId: { kind: 'key' },
    contractId: { kind: 'follows', column: 'lastEventAt', order: 'max' },
    customerId: { kind: 'follows', column: 'lastEventAt', order: 'max' },
    status: { kind: 'follows', column: 'statusAt', order: 'max', prefer: 'CANCELLED' },
    statusAt: { kind: 'max' },
    createdAt: { kind: 'min' },
    updatedAt: { kind: 'max' },
    cancelledAt: { kind: 'max' },
    idlePeriodAmount: { kind: 'follows', column: 'lastEventAt', order: 'max' },
    usedFreeTermsInDays: { kind: 'follows', column: 'lastEventAt', order: 'max' },
  },
};

export class IdlePeriodProjector {
  private readonly batch = new RecordBatch(IDLE_PERIODS);
  apply(event: IdlePeriodEvent): void {
    this.batch.add(idlePeriodRow(event));
  }
  write = this.batch.write.bind(this.batch);
}

type AdditionalModuleRow = ReturnType<typeof additionalModuleRow>;

const MODULE_STATUS: { readonly [T in AdditionalModuleEvent['type']]: AdditionalModuleStatus } = {
  CONTRACT_ADDITIONAL_MODULE_CREATED: 'ACTIVE',
  CONTRACT_ADDITIONAL_MODULE_UPDATED: 'ACTIVE',
  CONTRACT_ADDITIONAL_MODULE_CANCELLED: 'CANCELLED',
  CONTRACT_ADDITIONAL_MODULE_DELETED: 'DELETED',
};

function additionalModuleRow(event: AdditionalModuleEvent) {
  return tenantRecordRow(event, {
    moduleContractId: event.content.moduleContractId,
    contractId: event.content.contractId,
    customerId: event.entityId,
    status: MODULE_STATUS[event.type],
    statusAt: event.occurredAt,
    createdAt: when(event, 'CONTRACT_ADDITIONAL_MODULE_CREATED'),
    updatedAt: when(event, 'CONTRACT_ADDITIONAL_MODULE_UPDATED'),
    cancelledAt: when(event, 'CONTRACT_ADDITIONAL_MODULE_CANCELLED'),
    deletedAt: when(event, 'CONTRACT_ADDITIONAL_MODULE_DELETED'),
  });
}

/**
 * Additional modules, keyed by (tenant, moduleContractId). The latest event decides the status;
 * on a tie DELETED wins over CANCELLED, CANCELLED over ACTIVE. A deletion is a tombstone, never a
 * removed row: a CREATED delivered after it (older, or a duplicate) then changes nothing.
 */
const ADDITIONAL_MODULES: RecordSpec<AdditionalModuleRow> = {
  table: TABLES.contract_additional_modules,
  columns: {
    ...TENANT_RECORD_RULES,
    moduleContractId: { kind: 'key' },
    contractId: { kind: 'follows', column: 'lastEventAt', order: 'max' },
    customerId: { kind: 'follows', column: 'lastEventAt', order: 'max' },
    status: { kind: 'follows', column: 'statusAt', order: 'max', prefer: ['DELETED', 'CANCELLED'] },
    statusAt: { kind: 'max' },
    createdAt: { kind: 'min' },
    updatedAt: { kind: 'max' },
    cancelledAt: { kind: 'max' },
    deletedAt: { kind: 'max' },
  },
};

export class AdditionalModuleProjector {
  private readonly batch = new RecordBatch(ADDITIONAL_MODULES);
  apply(event: AdditionalModuleEvent): void {
    this.batch.add(additionalModuleRow(event));
  }
  write = this.batch.write.bind(this.batch);
}
