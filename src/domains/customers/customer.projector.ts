import { RecordBatch, type RecordSpec } from '../../db/record-batch.js';
import type { SqlTx } from '../../db/sql-writer.js';
import { TENANT_RECORD_RULES, tenantRecordRow } from '../../db/tenant-record.js';
import type { KnownEvent } from '../../events/event-catalog.js';
import { TABLES } from '../../db/tables.js';

type CustomerRow = ReturnType<typeof emptyRow>;

const CUSTOMERS: RecordSpec<CustomerRow> = {
  table: TABLES.customers,
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
    // Access disabled is for good (see accessDisabled below): the first time it was disabled.
    accessDisabledAt: { kind: 'min' },
    homeStudioUpdatedAt: { kind: 'max' },
    homeStudioOrder: { kind: 'max' },
    homeStudioUpstreamId: { kind: 'follows', column: 'homeStudioOrder', order: 'max' },
    previousHomeStudioUpstreamId: { kind: 'follows', column: 'homeStudioOrder', order: 'max' },
    checkinStudiosUpdatedAt: { kind: 'max' },
    checkinStudiosOrder: { kind: 'max' },
    checkinStudiosContractId: { kind: 'follows', column: 'checkinStudiosOrder', order: 'max' },
    lastAccessMediumCreatedAt: { kind: 'max' },
    lastAccessMediumUpdatedAt: { kind: 'max' },
    lastAccessMediumDeletedAt: { kind: 'max' },
    lastAccessRestrictionCreatedAt: { kind: 'max' },
    lastAccessRestrictionDeletedAt: { kind: 'max' },
  },
};

/**
 * The value a `follows` column of a fact that several events set is ordered by: the event's time,
 * then the values it carries, as fixed-width digits (so text order is numeric order on both
 * databases, whatever their collation). Two events of the same millisecond with different values
 * then still end in the same record whichever arrives first: the greater values win the tie.
 */
export function eventOrder(occurredAt: number, ...ids: readonly number[]): string {
  // 16 digits hold every epoch-ms time and every id the validator accepts (parseId: at most 16 digits).
  return [occurredAt, ...ids].map((n) => String(n).padStart(16, '0')).join('');
}

function emptyRow(event: KnownEvent, customerId: number) {
  return tenantRecordRow(event, {
    customerId,
    createdAt: null as number | null,
    updatedAt: null as number | null,
    communicationPreferencesUpdatedAt: null as number | null,
    deletedAt: null as number | null,
    lastCheckinAt: null as number | null,
    lastCheckinStudioId: null as number | null,
    lastCheckoutAt: null as number | null,
    accessDisabledAt: null as number | null,
    homeStudioUpdatedAt: null as number | null,
    homeStudioOrder: null as string | null,
    homeStudioUpstreamId: null as number | null,
    previousHomeStudioUpstreamId: null as number | null,
    checkinStudiosUpdatedAt: null as number | null,
    checkinStudiosOrder: null as string | null,
    checkinStudiosContractId: null as number | null,
    lastAccessMediumCreatedAt: null as number | null,
    lastAccessMediumUpdatedAt: null as number | null,
    lastAccessMediumDeletedAt: null as number | null,
    lastAccessRestrictionCreatedAt: null as number | null,
    lastAccessRestrictionDeletedAt: null as number | null,
  });
}

const CUSTOMER_STUDIOS: RecordSpec<ReturnType<typeof linkRow>> = {
  table: TABLES.customer_studios,
  columns: {
    tenantId: { kind: 'key' },
    customerId: { kind: 'key' },
    studioId: { kind: 'key' },
    firstEventAt: { kind: 'min' },
    lastEventAt: { kind: 'max' },
    lastCheckinAt: { kind: 'max' },
    lastCheckoutAt: { kind: 'max' },
  },
};

function linkRow(row: CustomerRow) {
  return {
    tenantId: row.tenantId,
    customerId: row.customerId,
    studioId: row.studioId,
    firstEventAt: row.firstEventAt,
    lastEventAt: row.lastEventAt,
    // Per studio: a check-in or check-out row is the event's own studio's (row.studioId).
    lastCheckinAt: row.lastCheckinAt,
    lastCheckoutAt: row.lastCheckoutAt,
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

  /**
   * CUSTOMER_ACCESS_DISABLED. Only marks the record: the personal data is erased by hydration, as
   * after CUSTOMER_DELETED (customer.hydrators.ts), which never reads the customer again.
   */
  accessDisabled(event: KnownEvent): void {
    this.batch.add({ ...emptyRow(event, event.entityId), accessDisabledAt: event.occurredAt });
  }

  /**
   * CUSTOMER_HOME_STUDIO_UPDATED: the latest move by event time sets the home studio (a tie: the
   * greater target, see {@link eventOrder}). Hydration writes the same column from the Open API's
   * `studioId`; a move older than the latest known one never overrides it, and each move queues a
   * fresh read of the customer, which settles the column on the upstream's current answer.
   */
  homeStudioUpdated(event: KnownEvent, sourceStudioId: number, targetStudioId: number): void {
    this.batch.add({
      ...emptyRow(event, event.entityId),
      homeStudioUpdatedAt: event.occurredAt,
      homeStudioOrder: eventOrder(event.occurredAt, targetStudioId, sourceStudioId),
      homeStudioUpstreamId: targetStudioId,
      previousHomeStudioUpstreamId: sourceStudioId,
    });
  }

  /** CUSTOMER_CHECKIN_STUDIOS_UPDATED: when, and under which contract (the latest by event time; a tie: the greater id). */
  checkinStudiosUpdated(event: KnownEvent, contractId: number): void {
    this.batch.add({
      ...emptyRow(event, event.entityId),
      checkinStudiosUpdatedAt: event.occurredAt,
      checkinStudiosOrder: eventOrder(event.occurredAt, contractId),
      checkinStudiosContractId: contractId,
    });
  }

  accessMediumChanged(event: KnownEvent, change: 'created' | 'updated' | 'deleted'): void {
    const column =
      change === 'created' ? 'lastAccessMediumCreatedAt' : change === 'updated' ? 'lastAccessMediumUpdatedAt' : 'lastAccessMediumDeletedAt';
    this.batch.add({ ...emptyRow(event, event.entityId), [column]: event.occurredAt });
  }

  /** The latest set and the latest lift, each kept on its own: whether one is in force follows from them (customer.resolver.ts). */
  accessRestrictionChanged(event: KnownEvent, change: 'created' | 'deleted'): void {
    const column = change === 'created' ? 'lastAccessRestrictionCreatedAt' : 'lastAccessRestrictionDeletedAt';
    this.batch.add({ ...emptyRow(event, event.entityId), [column]: event.occurredAt });
  }

  write(tx: SqlTx): void {
    this.customers.write(tx);
    this.links.write(tx);
  }
}
