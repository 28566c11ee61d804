import { RecordBatch, type RecordSpec } from '../../db/record-batch.js';
import { TENANT_RECORD_RULES, tenantRecordRow } from '../../db/tenant-record.js';
import type { KnownEvent } from '../../events/event-catalog.js';
import { TABLES } from '../../db/tables.js';

export type ContractEvent = Extract<KnownEvent, { type: 'CONTRACT_CREATED' | 'CONTRACT_UPDATED' | 'CONTRACT_CANCELLED' }>;
type ContractRow = ReturnType<typeof row>;

const CONTRACTS: RecordSpec<ContractRow> = {
  table: TABLES.contracts,
  columns: {
    ...TENANT_RECORD_RULES,
    contractId: { kind: 'key' },
    customerId: { kind: 'follows', column: 'lastEventAt', order: 'max' },
    createdAt: { kind: 'min' },
    updatedAt: { kind: 'max' },
    cancelledAt: { kind: 'max' },
  },
};

/** The events that name a contract in `content.contractId` without being about the contract itself (its pauses, its modules). */
type ContractPartEvent = Pick<KnownEvent, 'tenantId' | 'studioId' | 'occurredAt' | 'entityId'> & {
  readonly type: string;
  readonly content: { readonly contractId: number };
};

function row(event: ContractEvent | ContractPartEvent) {
  return tenantRecordRow(event, {
    contractId: event.content.contractId,
    customerId: event.entityId,
    createdAt: event.type === 'CONTRACT_CREATED' ? event.occurredAt : (null as number | null),
    updatedAt: event.type === 'CONTRACT_UPDATED' ? event.occurredAt : (null as number | null),
    cancelledAt: event.type === 'CONTRACT_CANCELLED' ? event.occurredAt : (null as number | null),
  });
}

/** CONTRACT_CREATED / _UPDATED / _CANCELLED: entityId is the customer, content.contractId the contract. */
export class ContractProjector {
  private readonly batch = new RecordBatch(CONTRACTS);
  apply(event: ContractEvent): void {
    this.batch.add(row(event));
  }
  /**
   * An event about a part of the contract (an idle period, an additional module): the contract
   * record exists (with the customer) and its `lastEventAt` moves, its own times do not.
   */
  touch(event: ContractPartEvent): void {
    this.batch.add(row(event));
  }
  write = this.batch.write.bind(this.batch);
}
