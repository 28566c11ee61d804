import type { KnownEvent } from '../events/event-catalog.js';
import { RecordBatch, type RecordSpec } from '../db/record-batch.js';
import type { TableName } from '../db/tables.js';
import { TENANT_RECORD_RULES, tenantRecordRow, type TenantRecordColumns } from '../db/tenant-record.js';

type CreatedRow = TenantRecordColumns & { createdAt: number } & Record<string, number>;

/** One spec per table and id column, for the life of the process: a projector lives for one batch. */
const specs = new Map<string, RecordSpec<CreatedRow>>();

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
    let spec = specs.get(`${table}.${idColumn}`);
    if (!spec) {
      spec = {
        table,
        columns: { ...TENANT_RECORD_RULES, [idColumn]: { kind: 'key' }, createdAt: { kind: 'min' } },
      } as RecordSpec<CreatedRow>;
      specs.set(`${table}.${idColumn}`, spec);
    }
    this.batch = new RecordBatch<CreatedRow>(spec);
  }

  apply(event: KnownEvent): void {
    this.batch.add(tenantRecordRow(event, { [this.idColumn]: event.entityId, createdAt: event.occurredAt }) as CreatedRow);
  }

  // A method, not an arrow in a class field: compiled as `this.write = (...) => ...` in the
  // constructor, V8 would allocate that closure in the old generation for every projector, keeping
  // the batch's rows past young collections (see answerWithin in src/db/sql-writer.ts).
  write(...args: Parameters<RecordBatch<CreatedRow>['write']>): ReturnType<RecordBatch<CreatedRow>['write']> {
    return this.batch.write(...args);
  }
}
