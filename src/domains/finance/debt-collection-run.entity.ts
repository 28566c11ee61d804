import { Entity, Index } from 'typeorm';
import { IdColumn, TimeColumn } from '../../db/columns.js';
import { TenantRecord } from '../../db/tenant-record.js';

/** A debt-collection run (FINANCE_DEBT_COLLECTION_RUN_CREATED). */
@Entity('debt_collection_runs')
@Index('debt_collection_runs_key', ['tenantId', 'runId'], { unique: true })
export class DebtCollectionRun extends TenantRecord {
  @IdColumn()
  runId!: number;

  @TimeColumn()
  createdAt!: Date;
}
