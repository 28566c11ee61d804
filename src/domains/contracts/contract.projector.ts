import { RecordBatch, type RecordSpec } from '../../db/record-batch.js';
import { TENANT_RECORD_RULES, tenantRecordRow } from '../../db/tenant-record.js';
import type { KnownEvent } from '../../events/event-catalog.js';

export type ContractEvent = Extract<KnownEvent, { type: 'CONTRACT_CREATED' | 'CONTRACT_UPDATED' }>;
type ContractRow = ReturnType<typeof row>;

const CONTRACTS: RecordSpec<ContractRow> = {
  table: 'contracts',
  columns: {
    ...TENANT_RECORD_RULES,
    contractId: { kind: 'key' },
    customerId: { kind: 'follows', column: 'lastEventAt', order: 'max' },
    createdAt: { kind: 'min' },
    updatedAt: { kind: 'max' },
  },
};

function row(event: ContractEvent) {
  return {
    ...tenantRecordRow(event),
    contractId: event.content.contractId,
    customerId: event.entityId,
    createdAt: event.type === 'CONTRACT_CREATED' ? event.occurredAt : (null as number | null),
    updatedAt: event.type === 'CONTRACT_UPDATED' ? event.occurredAt : (null as number | null),
  };
}

/** CONTRACT_CREATED / CONTRACT_UPDATED: entityId is the customer, content.contractId the contract. */
export class ContractProjector {
  private readonly batch = new RecordBatch(CONTRACTS);
  apply(event: ContractEvent): void {
    this.batch.add(row(event));
  }
  write = this.batch.write.bind(this.batch);
}
