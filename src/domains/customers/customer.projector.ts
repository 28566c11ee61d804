import { RecordBatch, type RecordSpec } from '../../db/record-batch.js';
import type { SqlTx } from '../../db/sql-writer.js';
import { TENANT_RECORD_RULES, tenantRecordRow } from '../../db/tenant-record.js';
import type { KnownEvent } from '../../events/event-catalog.js';

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

const CUSTOMER_STUDIOS: RecordSpec<ReturnType<typeof linkRow>> = {
  table: 'customer_studios',
  columns: {
    tenantId: { kind: 'key' }, customerId: { kind: 'key' }, studioId: { kind: 'key' },
    firstEventAt: { kind: 'min' }, lastEventAt: { kind: 'max' },
    lastCheckinAt: { kind: 'max' }, lastCheckoutAt: { kind: 'max' },
  },
};

function linkRow(row: CustomerRow) {
  return {
    tenantId: row.tenantId, customerId: row.customerId, studioId: row.studioId, firstEventAt: row.firstEventAt, lastEventAt: row.lastEventAt,
    // Per studio: a check-in or check-out row is the event's own studio's (row.studioId).
    lastCheckinAt: row.lastCheckinAt, lastCheckoutAt: row.lastCheckoutAt,
  };
}

/** Facts about customers gathered from one batch of events. */
export class CustomerProjector {
  private readonly customers = new RecordBatch(CUSTOMERS);
  /** Which studios delivered events about each customer: how the API scopes customers. */
  private readonly links = new RecordBatch(CUSTOMER_STUDIOS);
  private readonly batch = {
    add: (row: CustomerRow) => {
      this.customers.add(row);
      this.links.add(linkRow(row));
    },
  };

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

  write(tx: SqlTx): void {
    this.customers.write(tx);
    this.links.write(tx);
  }
}
