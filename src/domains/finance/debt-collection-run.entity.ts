import { Field, ID, ObjectType } from 'type-graphql';
import { Column, Entity, Index } from 'typeorm';
import { IdColumn, TimeColumn } from '../../db/columns.js';
import { TenantRecord } from '../../db/tenant-record.js';
import { TABLES } from '../../db/tables.js';

/** A debt-collection run (FINANCE_DEBT_COLLECTION_RUN_CREATED). */
@ObjectType({
  simpleResolvers: true,
  description:
    "A debt-collection run: one batch in which the operator hands customers' unpaid amounts to a collection agency. " +
    'Created by FINANCE_DEBT_COLLECTION_RUN_CREATED; its type, status and collection date come with hydration from the upstream Open API.',
})
@Entity(TABLES.debt_collection_runs)
@Index('debt_collection_runs_key', ['tenantId', 'runId'], { unique: true })
export class DebtCollectionRun extends TenantRecord {
  @Field(() => ID, { description: 'The upstream debt-collection run id (unique within the operator): the `entityId` of the event.' })
  @IdColumn()
  runId!: number;

  @Field({ description: 'When the run was created upstream (FINANCE_DEBT_COLLECTION_RUN_CREATED).' })
  @TimeColumn()
  createdAt!: Date;

  // Hydrated from the Open API (`GET /v1/debt-collection/{runId}/details`); null until then.

  @Field(() => String, {
    nullable: true,
    description:
      'INTERNAL_PROCESSING, WAITING_FOR_CONFIRMATION, COMPLETED or FAILED (new values may appear). From the Open API; null until hydrated.',
  })
  @Column({ type: 'text', nullable: true })
  status!: string | null;

  @Field(() => String, { nullable: true, description: 'The calendar date of the collection (ISO). From the Open API.' })
  @Column({ type: 'text', nullable: true })
  collectionDate!: string | null;

  @Field(() => String, {
    nullable: true,
    description: "TRUST (the agency collects on the operator's behalf) or PURCHASE (the agency buys the debts). From the Open API.",
  })
  @Column({ type: 'text', nullable: true })
  collectionType!: string | null;

  @Field(() => String, { nullable: true, description: 'How the run was started, as the operator reports it. From the Open API.' })
  @Column({ type: 'text', nullable: true })
  origin!: string | null;

  @Field(() => Date, { nullable: true, description: 'When the run was last read from the upstream Open API; null if never.' })
  @TimeColumn({ nullable: true })
  hydratedAt!: Date | null;
}
