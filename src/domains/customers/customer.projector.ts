import { RecordBatch, type RecordSpec } from '../../db/record-batch.js';
import { TENANT_RECORD_RULES, tenantRecordRow } from '../../db/tenant-record.js';
import type { KnownEvent } from '../../ingest/event-types.js';

type CustomerRow = ReturnType<typeof emptyRow>;

const CUSTOMERS: RecordSpec<CustomerRow> = {
  table: 'customers',
  columns: {
    ...TENANT_RECORD_RULES,
    customerId: { kind: 'key' },
    createdAt: { kind: 'min' },
    updatedAt: { kind: 'max' },
    communicationPreferencesUpdatedAt: { kind: 'max' },
    deletedAt: { kind: 'max' },
    lastCheckinAt: { kind: 'max' },
    lastCheckinStudioId: { kind: 'follows', column: 'lastCheckinAt', order: 'max' },
    lastCheckoutAt: { kind: 'max' },
  },
};

function emptyRow(event: KnownEvent, customerId: number) {
  return {
    ...tenantRecordRow(event),
    customerId,
    createdAt: null as number | null,
    updatedAt: null as number | null,
    communicationPreferencesUpdatedAt: null as number | null,
    deletedAt: null as number | null,
    lastCheckinAt: null as number | null,
    lastCheckinStudioId: null as number | null,
    lastCheckoutAt: null as number | null,
  };
}

/** Facts about customers gathered from one batch of events. */
export class CustomerProjector {
  private readonly batch = new RecordBatch(CUSTOMERS);

  /** Any customer-keyed event makes sure the customer exists. */
  touch(event: KnownEvent, customerId: number): void {
    this.batch.add(emptyRow(event, customerId));
  }

  created(event: KnownEvent): void {
    this.batch.add({ ...emptyRow(event, event.entityId), createdAt: event.occurredAt });
  }

  updated(event: KnownEvent): void {
    this.batch.add({ ...emptyRow(event, event.entityId), updatedAt: event.occurredAt });
  }

  preferencesUpdated(event: KnownEvent): void {
    this.batch.add({ ...emptyRow(event, event.entityId), communicationPreferencesUpdatedAt: event.occurredAt });
  }

  deleted(event: KnownEvent): void {
    this.batch.add({ ...emptyRow(event, event.entityId), deletedAt: event.occurredAt });
  }

  checkedIn(event: KnownEvent): void {
    this.batch.add({ ...emptyRow(event, event.entityId), lastCheckinAt: event.occurredAt, lastCheckinStudioId: event.studioId });
  }

  checkedOut(event: KnownEvent): void {
    this.batch.add({ ...emptyRow(event, event.entityId), lastCheckoutAt: event.occurredAt });
  }

  write = this.batch.write.bind(this.batch);
}
