import { RecordBatch, type RecordSpec } from '../../db/record-batch.js';
import { TENANT_RECORD_RULES, tenantRecordRow } from '../../db/tenant-record.js';
import type { KnownEvent } from '../../events/event-catalog.js';
import { TABLES } from '../../db/tables.js';

type AggregatorEvent = Extract<KnownEvent, { type: 'AGGREGATOR_MEMBER_CREATED' }>;
type MembershipRow = ReturnType<typeof row>;

const MEMBERSHIPS: RecordSpec<MembershipRow> = {
  table: TABLES.aggregator_memberships,
  columns: { ...TENANT_RECORD_RULES, customerId: { kind: 'key' }, aggregatorId: { kind: 'key' }, createdAt: { kind: 'min' } },
};

function row(event: AggregatorEvent) {
  return tenantRecordRow(event, { customerId: event.entityId, aggregatorId: event.content.aggregatorId, createdAt: event.occurredAt });
}

/** AGGREGATOR_MEMBER_CREATED links the aggregator's member id to the customer (entityId). */
export class AggregatorMembershipProjector {
  private readonly batch = new RecordBatch(MEMBERSHIPS);
  apply(event: AggregatorEvent): void {
    this.batch.add(row(event));
  }
  write = this.batch.write.bind(this.batch);
}
