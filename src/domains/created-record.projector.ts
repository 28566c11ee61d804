import type { KnownEvent } from '../events/event-catalog.js';
import { RecordBatch, type RecordSpec } from '../db/record-batch.js';
import type { TableName } from '../db/tables.js';
import { TENANT_RECORD_RULES, tenantRecordRow } from '../db/tenant-record.js';

type CreatedRow = ReturnType<typeof tenantRecordRow> & { createdAt: number } & Record<string, number>;

/**
 * Records that one *_CREATED event brings into being, keyed by the event's entityId:
 * devices, debt-collection runs, tax-advisor exports.
 */
export class CreatedRecordProjector {
  private readonly batch: RecordBatch<CreatedRow>;

  constructor(
    table: TableName,
    private readonly idColumn: string,
  ) {
    this.batch = new RecordBatch<CreatedRow>({
      table,
      columns: { ...TENANT_RECORD_RULES, [idColumn]: { kind: 'key' }, createdAt: { kind: 'min' } },
    } as RecordSpec<CreatedRow>);
  }

  apply(event: KnownEvent): void {
    this.batch.add({ ...tenantRecordRow(event), [this.idColumn]: event.entityId, createdAt: event.occurredAt } as CreatedRow);
  }

  write = (...args: Parameters<RecordBatch<CreatedRow>['write']>) => this.batch.write(...args);
}
