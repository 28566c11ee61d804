import { Field, ID, ObjectType } from 'type-graphql';
import { Entity, Index } from 'typeorm';
import { IdColumn, TimeColumn } from '../../db/columns.js';
import { TenantRecord } from '../../db/tenant-record.js';

/** An export for the tax advisor (TAX_ADVISOR_EXPORT_CREATED). */
@ObjectType({
  description:
    "An export of the operator's bookkeeping data prepared for its tax advisor. Created by TAX_ADVISOR_EXPORT_CREATED; " +
    'its period, file format and (short-lived) download link come with hydration from the upstream Open API.',
})
@Entity('tax_advisor_exports')
@Index('tax_advisor_exports_key', ['tenantId', 'exportId'], { unique: true })
export class TaxAdvisorExport extends TenantRecord {
  @Field(() => ID, { description: 'The upstream export id (unique within the operator): the `entityId` of TAX_ADVISOR_EXPORT_CREATED.' })
  @IdColumn()
  exportId!: number;

  @Field({ description: 'When the export was created upstream (TAX_ADVISOR_EXPORT_CREATED).' })
  @TimeColumn()
  createdAt!: Date;
}
