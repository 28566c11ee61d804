import { Field, ID, ObjectType } from 'type-graphql';
import { Column, Entity, Index } from 'typeorm';
import { IdColumn, TimeColumn } from '../../db/columns.js';
import { TenantRecord } from '../../db/tenant-record.js';
import { TABLES } from '../../db/tables.js';

/** An export for the tax advisor (TAX_ADVISOR_EXPORT_CREATED). */
@ObjectType({
  simpleResolvers: true,
  description:
    "An export of the operator's bookkeeping data prepared for its tax advisor. Created by TAX_ADVISOR_EXPORT_CREATED; " +
    "its period and formats come with hydration from the upstream Open API. The file itself is not kept: its download link expires within minutes, so fetch the file from the operator's system when needed.",
})
@Entity(TABLES.tax_advisor_exports)
@Index('tax_advisor_exports_key', ['tenantId', 'exportId'], { unique: true })
export class TaxAdvisorExport extends TenantRecord {
  @Field(() => ID, { description: 'The upstream export id (unique within the operator): the `entityId` of TAX_ADVISOR_EXPORT_CREATED.' })
  @IdColumn()
  exportId!: number;

  @Field({ description: 'When the export was created upstream (TAX_ADVISOR_EXPORT_CREATED).' })
  @TimeColumn()
  createdAt!: Date;

  // Hydrated from the Open API (`GET /v1/taxadvisor/exports/{exportId}`); null until then. The
  // answer's `downloadUrl` expires after 15 minutes and is never stored.

  @Field(() => String, {
    nullable: true,
    description: 'First day the export covers (ISO calendar date). From the Open API; null until hydrated.',
  })
  @Column({ type: 'text', nullable: true })
  fromDate!: string | null;

  @Field(() => String, {
    nullable: true,
    description: 'Last day the export covers (ISO calendar date). From the Open API; null until hydrated.',
  })
  @Column({ type: 'text', nullable: true })
  toDate!: string | null;

  @Field(() => String, { nullable: true, description: 'File format: JSON, CSV or XLSX. From the Open API.' })
  @Column({ type: 'text', nullable: true })
  fileFormat!: string | null;

  @Field(() => String, {
    nullable: true,
    description: 'SINGLE (one line per booking) or AGGREGATED (totals per account). From the Open API.',
  })
  @Column({ type: 'text', nullable: true })
  exportFormat!: string | null;

  @Field(() => Date, { nullable: true, description: 'When the export was last read from the upstream Open API; null if never.' })
  @TimeColumn({ nullable: true })
  hydratedAt!: Date | null;
}
