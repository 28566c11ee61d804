import { RecordBatch, type RecordSpec } from '../../db/record-batch.js';
import type { SqlTx } from '../../db/sql-writer.js';
import { TENANT_RECORD_RULES, tenantRecordRow } from '../../db/tenant-record.js';
import type { KnownEvent } from '../../events/event-catalog.js';
import { TABLES } from '../../db/tables.js';

type EmployeeRow = ReturnType<typeof emptyRow>;

/**
 * `createdAt` is the earliest EMPLOYEE_CREATED, `updatedAt` the latest EMPLOYEE_UPDATED, `deletedAt`
 * the latest EMPLOYEE_DELETED: the same records whatever the order and however often events repeat.
 */
const EMPLOYEES: RecordSpec<EmployeeRow> = {
  table: TABLES.employees,
  columns: {
    ...TENANT_RECORD_RULES,
    employeeId: { kind: 'key' },
    createdAt: { kind: 'min' },
    updatedAt: { kind: 'max' },
    deletedAt: { kind: 'max' },
  },
};

function emptyRow(event: KnownEvent) {
  return tenantRecordRow(event, {
    employeeId: event.entityId,
    createdAt: null as number | null,
    updatedAt: null as number | null,
    deletedAt: null as number | null,
  });
}

/**
 * Facts about employees gathered from one batch of events. The hydrated fields are hydration's
 * (employee.hydrators.ts), which also erases the personal ones of a deleted employee.
 */
export class EmployeeProjector {
  private readonly batch = new RecordBatch(EMPLOYEES);

  created(event: KnownEvent): void {
    this.batch.add({ ...emptyRow(event), createdAt: event.occurredAt });
  }

  updated(event: KnownEvent): void {
    this.batch.add({ ...emptyRow(event), updatedAt: event.occurredAt });
  }

  deleted(event: KnownEvent): void {
    this.batch.add({ ...emptyRow(event), deletedAt: event.occurredAt });
  }

  write(tx: SqlTx): void {
    this.batch.write(tx);
  }
}
