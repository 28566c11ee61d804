import { Field, ID, ObjectType, registerEnumType } from 'type-graphql';
import { Column, Entity, Index } from 'typeorm';
import { IdColumn, TimeColumn } from '../../db/columns.js';
import { TenantRecord } from '../../db/tenant-record.js';
import type { CaseIdSource } from './debt-collection.projectors.js';
import { TABLES } from '../../db/tables.js';

export const CaseIdSourceEnum = { AGENCY: 'AGENCY', COLLECTION: 'COLLECTION' } as const satisfies { readonly [S in CaseIdSource]: S };
registerEnumType(CaseIdSourceEnum, {
  name: 'DebtCollectionCaseIdSource',
  description: 'Which upstream id names a debt-collection case.',
  valuesConfig: {
    AGENCY: { description: "The collection agency's case id (`content.agencyDebtCollectionCaseId`), used whenever the event carries it." },
    COLLECTION: { description: 'The collection case id (`content.collectionCaseId`), used when the event carries no agency case id.' },
  },
});

/** A debt-collection case (FINANCE_DEBT_COLLECTION_CASE_UPDATED). */
@ObjectType({
  simpleResolvers: true,
  description:
    "A debt-collection case: one customer's unpaid amounts being collected, changed through adjustment requests. " +
    "Made and updated by FINANCE_DEBT_COLLECTION_CASE_UPDATED; named by the agency's case id when the event carries one, otherwise by the collection case id. " +
    'The Open API has no read for cases: this is what the events say.',
})
@Entity(TABLES.debt_collection_cases)
@Index('debt_collection_cases_key', ['tenantId', 'caseIdSource', 'caseId'], { unique: true })
@Index('debt_collection_cases_studio', ['studioId', 'lastEventAt'])
export class DebtCollectionCase extends TenantRecord {
  @Field(() => CaseIdSourceEnum, {
    description:
      "`AGENCY`: `caseId` is the collection agency's case id (`content.agencyDebtCollectionCaseId`); `COLLECTION`: the event had none, and `caseId` is `content.collectionCaseId`. The two are separate id spaces.",
  })
  @Column({ type: 'varchar', length: 16 })
  caseIdSource!: CaseIdSource;

  @Field(() => ID, { description: 'The upstream id the case is known by (see `caseIdSource`).' })
  @IdColumn()
  caseId!: number;

  @Field(() => ID, {
    nullable: true,
    description: "The agency's case id, as the latest event (by upstream time) gave it; null when it gave none.",
  })
  @IdColumn({ nullable: true })
  agencyDebtCollectionCaseId!: number | null;

  @Field(() => ID, {
    nullable: true,
    description: 'The collection case id, as the latest event (by upstream time) gave it; null when it gave none.',
  })
  @IdColumn({ nullable: true })
  collectionCaseId!: number | null;

  @Field(() => ID, {
    description:
      'The latest adjustment request of the case (by upstream time): the `entityId` of that FINANCE_DEBT_COLLECTION_CASE_UPDATED.',
  })
  @IdColumn()
  latestAdjustmentRequestId!: number;

  @Field({ description: 'When the latest adjustment request happened upstream.' })
  @TimeColumn()
  latestAdjustmentRequestAt!: Date;
}
