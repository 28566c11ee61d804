import type { SqlTx } from '../../db/sql-writer.js';
import type { OpenApi, UpstreamContract } from '../../upstream/open-api.js';
import { change, done, notFound, readOr, type ClaimedJob, type Hydrators, type RecordWrite } from '../hydrator.js';
import { updateRecord, type RecordChange } from '../record-writes.js';
import { TABLES } from '../../db/tables.js';

/**
 * Fills the customer's idle periods and additional modules from the contract list, matched by id
 * under the contract the events named. A pause the list no longer has was cancelled (the upstream
 * lists those in force only) and a module it no longer has was deleted: their records keep what
 * they had. Returns, per contract, which of its lists changed.
 */
async function hydrateContractParts(
  tx: SqlTx,
  tenantId: number,
  customerId: number,
  contracts: readonly UpstreamContract[],
  now: number,
): Promise<Map<number, string[]>> {
  const changed = new Map<number, string[]>();
  const note = (contractId: number, list: string) => {
    const lists = changed.get(contractId) ?? [];
    if (!lists.includes(list)) lists.push(list);
    changed.set(contractId, lists);
  };
  const byId = new Map(contracts.map((c) => [c.id, c]));
  const pauses = await tx.all<{ idlePeriodId: number | string; contractId: number | string }>(
    `SELECT "idlePeriodId", "contractId" FROM ${TABLES.contract_idle_periods} WHERE "tenantId" = ? AND "customerId" = ?`,
    [tenantId, customerId],
  );
  for (const pause of pauses) {
    const idlePeriodId = Number(pause.idlePeriodId);
    const upstream = byId.get(Number(pause.contractId))?.idlePeriods.find((p) => p.id === idlePeriodId);
    if (!upstream) continue;
    const columns = await updateRecord(
      tx,
      TABLES.contract_idle_periods,
      { tenantId, idlePeriodId },
      {
        startDate: upstream.startDate,
        endDate: upstream.endDate,
        unlimited: upstream.unlimited,
      },
      now,
    );
    if (columns && columns.length > 0) note(Number(pause.contractId), 'idlePeriods');
  }
  const modules = await tx.all<{ moduleContractId: number | string; contractId: number | string }>(
    `SELECT "moduleContractId", "contractId" FROM ${TABLES.contract_additional_modules} WHERE "tenantId" = ? AND "customerId" = ?`,
    [tenantId, customerId],
  );
  for (const module of modules) {
    const moduleContractId = Number(module.moduleContractId);
    const upstream = byId.get(Number(module.contractId))?.additionalModules.find((m) => m.moduleContractId === moduleContractId);
    if (!upstream) continue;
    const columns = await updateRecord(
      tx,
      TABLES.contract_additional_modules,
      { tenantId, moduleContractId },
      {
        rateName: upstream.rateName,
        contractStatus: upstream.status,
        startDate: upstream.startDate,
        endDate: upstream.endDate,
        cancelled: upstream.cancelled,
        cancellationDate: upstream.cancellationDate,
        priceAmount: upstream.price?.amount ?? null,
        priceCurrency: upstream.price?.currency ?? null,
      },
      now,
    );
    if (columns && columns.length > 0) note(Number(module.contractId), 'additionalModules');
  }
  return changed;
}

/** The customer's contracts (one list read serves all of them), with their idle periods and modules. */
async function hydrateContracts(job: ClaimedJob, api: OpenApi): Promise<RecordWrite> {
  const { tenantId } = job;
  const id = Number(job.upstreamKey);
  const read = await readOr(
    () => api.listContracts(id),
    () => async () => done([], notFound(`customer ${id} (for its contracts)`)),
  );
  if ('gone' in read) return read.gone;
  const contracts = read.value;
  return async (tx, now) => {
    const ours = await tx.all<{ contractId: number | string }>(
      `SELECT "contractId" FROM ${TABLES.contracts} WHERE "tenantId" = ? AND "customerId" = ?`,
      [tenantId, id],
    );
    const changes: RecordChange[] = [];
    const missing: number[] = [];
    for (const { contractId: raw } of ours) {
      const contractId = Number(raw);
      const upstream = contracts.find((c) => c.id === contractId);
      if (!upstream) {
        missing.push(contractId);
        continue;
      }
      const changed = await updateRecord(
        tx,
        TABLES.contracts,
        { tenantId, contractId },
        {
          rateName: upstream.rateName,
          contractStatus: upstream.contractStatus,
          signedOn: upstream.createdDate,
          startDate: upstream.startDate,
          endDate: upstream.endDate,
          cancelled: upstream.cancelled,
          cancellationDate: upstream.cancellationDate,
          termValue: upstream.term?.periodValue ?? null,
          termUnit: upstream.term?.periodUnit ?? null,
          basePriceAmount: upstream.basePrice?.amount ?? null,
          basePriceCurrency: upstream.basePrice?.currency ?? null,
          currentPriceAmount: upstream.currentPrice?.amount ?? null,
          currentPriceCurrency: upstream.currentPrice?.currency ?? null,
        },
        now,
      );
      changes.push(...change('contract', contractId, changed));
    }
    // The contracts' pauses and modules: reported as a change of their contract ('idlePeriods', 'additionalModules').
    const parts = await hydrateContractParts(tx, tenantId, id, contracts, now);
    for (const [contractId, changed] of parts) {
      const existing = changes.find((c) => c.record === 'contract' && c.entityId === contractId);
      if (existing) changes.splice(changes.indexOf(existing), 1, { ...existing, changed: [...existing.changed, ...changed] });
      else changes.push(...change('contract', contractId, changed));
    }
    return done(changes, missing.length > 0 ? `not in the customer's contract list upstream: contract ${missing.join(', ')}` : null);
  };
}

/** The contract area's read: a customer's contract list. */
export const CONTRACT_HYDRATORS = {
  contracts: hydrateContracts,
} as const satisfies Hydrators;
