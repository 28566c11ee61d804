import { RecordBatch, type RecordSpec } from '../../db/record-batch.js';
import { TENANT_RECORD_RULES, tenantRecordRow } from '../../db/tenant-record.js';
import type { KnownEvent } from '../../events/event-catalog.js';
import { TABLES } from '../../db/tables.js';

type CaseEvent = Extract<KnownEvent, { type: 'FINANCE_DEBT_COLLECTION_CASE_UPDATED' }>;
type ConfigurationEvent = Extract<KnownEvent, { type: 'FINANCE_DEBT_COLLECTION_CONFIGURATION_UPDATED' }>;

/** Which of the event's two ids names a case: the agency's when the event carries it. */
export const CASE_ID_SOURCES = ['AGENCY', 'COLLECTION'] as const;
export type CaseIdSource = (typeof CASE_ID_SOURCES)[number];

/**
 * The case an event is about: `agencyDebtCollectionCaseId` when set, else `collectionCaseId` (the
 * declaration's rule guarantees one of them). The two are different upstream id spaces, so the
 * source is part of the key: agency case 5 and collection case 5 are two records. A case first
 * announced with its collection id only and later with an agency id is therefore two records too;
 * the later one carries the collection id it came with (`collectionCaseId`), which links them.
 */
export function caseKeyOf(content: { readonly agencyDebtCollectionCaseId: number | null; readonly collectionCaseId: number | null }): {
  caseIdSource: CaseIdSource;
  caseId: number;
} {
  return content.agencyDebtCollectionCaseId !== null
    ? { caseIdSource: 'AGENCY', caseId: content.agencyDebtCollectionCaseId }
    : { caseIdSource: 'COLLECTION', caseId: content.collectionCaseId ?? Number.NaN };
}

function caseRow(event: CaseEvent) {
  // Object.assign, not a spread followed by more properties: see tenantRecordRow.
  return tenantRecordRow(
    event,
    Object.assign(caseKeyOf(event.content) as { caseIdSource: string; caseId: number }, {
      agencyDebtCollectionCaseId: event.content.agencyDebtCollectionCaseId,
      collectionCaseId: event.content.collectionCaseId,
      latestAdjustmentRequestId: event.entityId,
      latestAdjustmentRequestAt: event.occurredAt,
    }),
  );
}

const CASES: RecordSpec<ReturnType<typeof caseRow>> = {
  table: TABLES.debt_collection_cases,
  columns: {
    ...TENANT_RECORD_RULES,
    caseIdSource: { kind: 'key' },
    caseId: { kind: 'key' },
    // What the latest event (by upstream time) said; on a tie the stored values stay.
    agencyDebtCollectionCaseId: { kind: 'follows', column: 'lastEventAt', order: 'max' },
    collectionCaseId: { kind: 'follows', column: 'lastEventAt', order: 'max' },
    latestAdjustmentRequestId: { kind: 'follows', column: 'lastEventAt', order: 'max' },
    latestAdjustmentRequestAt: { kind: 'max' },
  },
};

/** FINANCE_DEBT_COLLECTION_CASE_UPDATED: entityId is the case adjustment request; the case is named in content. */
export class DebtCollectionCaseProjector {
  private readonly batch = new RecordBatch(CASES);
  apply(event: CaseEvent): void {
    this.batch.add(caseRow(event));
  }
  write = this.batch.write.bind(this.batch);
}

function configurationRow(event: ConfigurationEvent) {
  return {
    studioId: event.studioId,
    tenantId: event.tenantId,
    firstEventAt: event.occurredAt,
    lastEventAt: event.occurredAt,
    latestEntityId: event.entityId,
  };
}

const CONFIGURATIONS: RecordSpec<ReturnType<typeof configurationRow>> = {
  table: TABLES.debt_collection_configurations,
  columns: {
    studioId: { kind: 'key' },
    // A studio never changes operator: every event of a studio carries the same tenant.
    tenantId: { kind: 'min' },
    firstEventAt: { kind: 'min' },
    lastEventAt: { kind: 'max' },
    latestEntityId: { kind: 'follows', column: 'lastEventAt', order: 'max' },
  },
};

/**
 * FINANCE_DEBT_COLLECTION_CONFIGURATION_UPDATED: the upstream does not say what entityId is, so the
 * record is the delivering studio's (its webhook key), keeping the time of the latest change and
 * that event's entityId as it came.
 */
export class DebtCollectionConfigurationProjector {
  private readonly batch = new RecordBatch(CONFIGURATIONS);
  apply(event: ConfigurationEvent): void {
    this.batch.add(configurationRow(event));
  }
  write = this.batch.write.bind(this.batch);
}
