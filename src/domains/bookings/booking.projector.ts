import type { KnownEvent } from '../../events/event-catalog.js';
import type { BookingStatus } from './booking-record.js';
import { RecordBatch, type RecordSpec } from '../../db/record-batch.js';
import type { TABLES } from '../../db/tables.js';
import { TENANT_RECORD_RULES, tenantRecordRow } from '../../db/tenant-record.js';

type BookingRow = ReturnType<typeof row>;
export type BookingChange = 'created' | 'updated' | 'cancelled';

function row(event: KnownEvent, change: BookingChange) {
  const at = (when: BookingChange) => (change === when ? event.occurredAt : null);
  return tenantRecordRow(event, {
    bookingId: event.entityId,
    status: (change === 'cancelled' ? 'CANCELLED' : 'BOOKED') as BookingStatus,
    statusAt: event.occurredAt,
    createdAt: at('created'),
    updatedAt: at('updated'),
    cancelledAt: at('cancelled'),
  });
}

type BookingTable = typeof TABLES.class_bookings | typeof TABLES.appointment_bookings;

/** One spec per table, for the life of the process: a projector lives for one batch (record-batch.ts keeps per-spec work). */
const specs = new Map<BookingTable, RecordSpec<BookingRow>>();
function bookingSpec(table: BookingTable): RecordSpec<BookingRow> {
  let spec = specs.get(table);
  if (!spec) {
    spec = {
      table,
      columns: {
        ...TENANT_RECORD_RULES,
        bookingId: { kind: 'key' },
        status: { kind: 'follows', column: 'statusAt', order: 'max', prefer: 'CANCELLED' },
        statusAt: { kind: 'max' },
        createdAt: { kind: 'min' },
        updatedAt: { kind: 'max' },
        cancelledAt: { kind: 'max' },
      },
    };
    specs.set(table, spec);
  }
  return spec;
}

/**
 * Class and appointment bookings: entityId is the booking id; the latest event decides the status
 * and a cancellation wins a tie.
 */
export class BookingProjector {
  private readonly batch: RecordBatch<BookingRow>;

  constructor(table: BookingTable) {
    this.batch = new RecordBatch(bookingSpec(table));
  }

  apply(event: KnownEvent, change: BookingChange): void {
    this.batch.add(row(event, change));
  }

  // A method, not an arrow in a class field: compiled as `this.write = (...) => ...` in the
  // constructor, V8 would allocate that closure in the old generation for every projector, keeping
  // the batch's rows past young collections (see answerWithin in src/db/sql-writer.ts).
  write(...args: Parameters<RecordBatch<BookingRow>['write']>): ReturnType<RecordBatch<BookingRow>['write']> {
    return this.batch.write(...args);
  }
}
