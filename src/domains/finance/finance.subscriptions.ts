import { Field, ObjectType } from 'type-graphql';
import { RecordSubscriptionArgs } from '../../api/subscription.args.js';
import { SqlReader } from '../../db/sql-reader.js';
import { EventRecord } from '../events/event-record.entity.js';
import { EVENT_FIELD, byEntity, contentId, family, ownedBy, recordAfter } from '../subscription-family.js';
import { DebtCollectionCase } from './debt-collection-case.entity.js';
import { DebtCollectionConfiguration } from './debt-collection-configuration.entity.js';
import { DebtCollectionRun } from './debt-collection-run.entity.js';
import { caseKeyOf } from './debt-collection.projectors.js';
import { TaxAdvisorExport } from './tax-advisor-export.entity.js';

@ObjectType({ simpleResolvers: true, description: 'A debt-collection run created, with the run.' })
export class DebtCollectionRunEventPayload {
  @Field(() => EventRecord, EVENT_FIELD) event!: EventRecord;
  @Field(() => DebtCollectionRun, recordAfter('The debt-collection run')) debtCollectionRun!: DebtCollectionRun | null;
}

@ObjectType({ simpleResolvers: true, description: 'A tax-advisor export created, with the export.' })
export class TaxAdvisorExportEventPayload {
  @Field(() => EventRecord, EVENT_FIELD) event!: EventRecord;
  @Field(() => TaxAdvisorExport, recordAfter('The tax-advisor export')) taxAdvisorExport!: TaxAdvisorExport | null;
}

@ObjectType({ simpleResolvers: true, description: 'A debt-collection case changed, with the case.' })
export class DebtCollectionCaseEventPayload {
  @Field(() => EventRecord, EVENT_FIELD) event!: EventRecord;
  @Field(() => DebtCollectionCase, recordAfter('The debt-collection case')) debtCollectionCase!: DebtCollectionCase | null;
}

@ObjectType({ simpleResolvers: true, description: "A studio's debt-collection settings changed, with what is known of them." })
export class DebtCollectionConfigurationEventPayload {
  @Field(() => EventRecord, EVENT_FIELD) event!: EventRecord;
  @Field(() => DebtCollectionConfiguration, {
    nullable: true,
    description: "The studio's debt-collection configuration record, as it stands after the event; null when this token may not see it.",
  })
  debtCollectionConfiguration!: DebtCollectionConfiguration | null;
}

// Finance records are the operator's: member-access.ts refuses every one of these fields to members.

/** A debt-collection run's events (entityId the run). */
export const DEBT_COLLECTION_RUN_EVENTS = family({
  payload: DebtCollectionRunEventPayload,
  args: RecordSubscriptionArgs,
  select: () => ({}),
  load: async (event, dataSource) => ({ debtCollectionRun: await byEntity(DebtCollectionRun, 'runId')(event, dataSource) }),
  visible: ({ debtCollectionRun }, scope) => ({ debtCollectionRun: ownedBy(debtCollectionRun, scope) }),
  member: 'forbidden',
});

/** A tax-advisor export's events (entityId the export). */
export const TAX_ADVISOR_EXPORT_EVENTS = family({
  payload: TaxAdvisorExportEventPayload,
  args: RecordSubscriptionArgs,
  select: () => ({}),
  load: async (event, dataSource) => ({ taxAdvisorExport: await byEntity(TaxAdvisorExport, 'exportId')(event, dataSource) }),
  visible: ({ taxAdvisorExport }, scope) => ({ taxAdvisorExport: ownedBy(taxAdvisorExport, scope) }),
  member: 'forbidden',
});

/** A debt-collection case's events (the case is named in content). */
export const DEBT_COLLECTION_CASE_EVENTS = family({
  payload: DebtCollectionCaseEventPayload,
  args: RecordSubscriptionArgs,
  select: () => ({}),
  load: async (event, dataSource) => {
    const key = caseKeyOf({
      agencyDebtCollectionCaseId:
        event.content?.['agencyDebtCollectionCaseId'] == null ? null : contentId(event, 'agencyDebtCollectionCaseId'),
      collectionCaseId: event.content?.['collectionCaseId'] == null ? null : contentId(event, 'collectionCaseId'),
    });
    return { debtCollectionCase: await SqlReader.of(dataSource).findOne(DebtCollectionCase, { tenantId: event.tenantId, ...key }) };
  },
  visible: ({ debtCollectionCase }, scope) => ({ debtCollectionCase: ownedBy(debtCollectionCase, scope) }),
  member: 'forbidden',
});

/** The debt-collection settings of the studio that delivered the event. */
export const DEBT_COLLECTION_CONFIGURATION_EVENTS = family({
  payload: DebtCollectionConfigurationEventPayload,
  args: RecordSubscriptionArgs,
  select: () => ({}),
  load: async (event, dataSource) => ({
    debtCollectionConfiguration: await SqlReader.of(dataSource).findOne(DebtCollectionConfiguration, { studioId: event.studioId }),
  }),
  visible: ({ debtCollectionConfiguration }, scope) => ({ debtCollectionConfiguration: ownedBy(debtCollectionConfiguration, scope) }),
  member: 'forbidden',
});
