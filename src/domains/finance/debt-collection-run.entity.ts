import { Field, ID, ObjectType } from 'type-graphql';
import { Entity, Index } from 'typeorm';
import { IdColumn, TimeColumn } from '../../db/columns.js';
import { TenantRecord } from '../../db/tenant-record.js';

/** A debt-collection run (FINANCE_DEBT_COLLECTION_RUN_CREATED). */
@ObjectType({
  description:
    "A debt-collection run: one batch in which the operator hands customers' unpaid amounts to a collection agency. " +
    'Created by FINANCE_DEBT_COLLECTION_RUN_CREATED; its type, status and collection date come with hydration from the upstream Open API.',
})
@Entity('debt_collection_runs')
@Index('debt_collection_runs_key', ['tenantId', 'runId'], { unique: true })
export class DebtCollectionRun extends TenantRecord {
  @Field(() => ID, { description: 'The upstream debt-collection run id (unique within the operator): the `entityId` of the event.' })
  @IdColumn()
  runId!: number;

  @Field({ description: 'When the run was created upstream (FINANCE_DEBT_COLLECTION_RUN_CREATED).' })
  @TimeColumn()
  createdAt!: Date;
}
