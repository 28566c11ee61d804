import { Entity, Index } from 'typeorm';
import { IdColumn, TimeColumn } from '../../db/columns.js';
import { TenantRecord } from '../../db/tenant-record.js';

/** An export for the tax advisor (TAX_ADVISOR_EXPORT_CREATED). */
@Entity('tax_advisor_exports')
@Index('tax_advisor_exports_key', ['tenantId', 'exportId'], { unique: true })
export class TaxAdvisorExport extends TenantRecord {
  @IdColumn()
  exportId!: number;

  @TimeColumn()
  createdAt!: Date;
}
