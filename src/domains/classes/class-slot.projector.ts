import { RecordBatch, type RecordSpec } from '../../db/record-batch.js';
import { TENANT_RECORD_RULES, tenantRecordRow } from '../../db/tenant-record.js';
import type { KnownEvent } from '../../events/event-catalog.js';
import type { ClassSlotStatus } from './class-slot.entity.js';
import { TABLES } from '../../db/tables.js';

type SlotEvent = Extract<KnownEvent, { type: 'CLASS_SLOT_UPDATED' | 'CLASS_SLOT_CANCELLED' }>;
type SlotRow = ReturnType<typeof row>;

const CLASS_SLOTS: RecordSpec<SlotRow> = {
  table: TABLES.class_slots,
  columns: {
    ...TENANT_RECORD_RULES,
    slotId: { kind: 'key' },
    classId: { kind: 'follows', column: 'lastEventAt', order: 'max' },
    status: { kind: 'follows', column: 'statusAt', order: 'max', prefer: 'CANCELLED' },
    statusAt: { kind: 'max' },
    updatedAt: { kind: 'max' },
    cancelledAt: { kind: 'max' },
  },
};

function row(event: SlotEvent) {
  const cancelled = event.type === 'CLASS_SLOT_CANCELLED';
  return tenantRecordRow(event, {
    slotId: event.entityId,
    classId: event.content.classId,
    status: (cancelled ? 'CANCELLED' : 'SCHEDULED') as ClassSlotStatus,
    statusAt: event.occurredAt,
    updatedAt: cancelled ? null : event.occurredAt,
    cancelledAt: cancelled ? event.occurredAt : null,
  });
}

/** CLASS_SLOT_UPDATED / _CANCELLED: cancelled stays cancelled unless a later event says otherwise. */
export class ClassSlotProjector {
  private readonly batch = new RecordBatch(CLASS_SLOTS);
  apply(event: SlotEvent): void {
    this.batch.add(row(event));
  }
  write = this.batch.write.bind(this.batch);
}
