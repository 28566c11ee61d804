import type { OpenApi } from '../../upstream/open-api.js';
import { change, done, noRecord, notFound, readOr, type ClaimedJob, type Hydrators, type RecordWrite } from '../hydrator.js';
import { updateRecord } from '../record-writes.js';
import { TABLES } from '../../db/tables.js';

/** A debt-collection run. */
async function hydrateDebtCollectionRun(job: ClaimedJob, api: OpenApi): Promise<RecordWrite> {
  const { tenantId } = job;
  const id = Number(job.upstreamKey);
  const read = await readOr(
    () => api.getDebtCollectionRun(id),
    () => async () => done([], notFound(`debt-collection run ${id}`)),
  );
  if ('gone' in read) return read.gone;
  const r = read.value;
  return async (tx, now) => {
    const changed = await updateRecord(
      tx,
      TABLES.debt_collection_runs,
      { tenantId, runId: id },
      {
        status: r.status,
        collectionDate: r.collectionDate,
        collectionType: r.debtCollectionType,
        origin: r.origin,
      },
      now,
    );
    return changed === null ? done([], noRecord('debt-collection run')) : done(change('debtCollectionRun', id, changed));
  };
}

/** A tax-advisor export. */
async function hydrateTaxAdvisorExport(job: ClaimedJob, api: OpenApi): Promise<RecordWrite> {
  const { tenantId } = job;
  const id = Number(job.upstreamKey);
  const read = await readOr(
    () => api.getTaxAdvisorExport(id),
    () => async () => done([], notFound(`tax-advisor export ${id}`)),
  );
  if ('gone' in read) return read.gone;
  const e = read.value;
  return async (tx, now) => {
    // The answer's downloadUrl expires within 15 minutes: it is never stored.
    const changed = await updateRecord(
      tx,
      TABLES.tax_advisor_exports,
      { tenantId, exportId: id },
      {
        fromDate: e.fromDate,
        toDate: e.toDate,
        fileFormat: e.exportFileFormat,
        exportFormat: e.exportFormat,
      },
      now,
    );
    return changed === null ? done([], noRecord('tax-advisor export')) : done(change('taxAdvisorExport', id, changed));
  };
}

/** The finance area's reads: debt-collection runs and tax-advisor exports. */
export const FINANCE_HYDRATORS = {
  debt_collection_run: hydrateDebtCollectionRun,
  tax_advisor_export: hydrateTaxAdvisorExport,
} as const satisfies Hydrators;
