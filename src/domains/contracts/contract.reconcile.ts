import type { Repair, ReconcileHook } from '../reconcile-hook.js';
import { TABLES } from '../../db/tables.js';

/**
 * Each contract of each customer the upstream lists (a bare array; compared in full), created here
 * unless a record shows its creation. The repair's upstream time is the contract's creation day (or
 * else its start day) at 00:00 UTC, or the time of the run when the Open API has neither.
 */
export const CONTRACT_RECONCILE: ReconcileHook<'contracts'> = {
  synthesises: { contracts: 'CONTRACT_CREATED' },
  perCustomer: async (customer, { studio, api, at, counts, read }) => {
    const tenantId = studio.tenantId;
    const customerId = customer.id;
    const repairs: Repair<'contracts'>[] = [];
    const contracts = await api.listContracts(customerId);
    if (contracts.length === 0) return repairs;
    const rows = await read<{ contractId: number | string; createdAt: number | string | null }>(
      `SELECT "contractId", "createdAt" FROM ${TABLES.contracts} WHERE "tenantId" = ? AND "contractId" IN (${contracts.map(() => '?').join(', ')})`,
      [tenantId, ...contracts.map((c) => c.id)],
    );
    const created = new Set(rows.filter((r) => r.createdAt !== null).map((r) => Number(r.contractId)));
    for (const contract of contracts) {
      counts.contracts.seen += 1;
      if (created.has(contract.id)) {
        counts.contracts.present += 1;
        continue;
      }
      const day = contract.createdDate ?? contract.startDate;
      repairs.push({
        kind: 'contracts',
        studioId: studio.id,
        entityId: customerId,
        occurredAt: day ? Date.parse(`${day}T00:00:00Z`) : at,
        upstreamId: contract.id,
        action: 'created',
        content: { contractId: contract.id },
      });
    }
    return repairs;
  },
};
