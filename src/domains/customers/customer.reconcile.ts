import { OpenApiError } from '../../upstream/open-api.js';
import { ReconcileError, type ReconcileHook } from '../reconcile-hook.js';
import { TABLES } from '../../db/tables.js';

/**
 * Each customer the upstream lists, created here unless a record shows its creation. The repair's
 * upstream time is the customer's creation time, or the time of the run when the Open API has none.
 */
export const CUSTOMER_RECONCILE: ReconcileHook<'customers'> = {
  synthesises: { customers: 'CUSTOMER_CREATED' },
  perCustomer: async (customer, { studio, at, counts, read }) => {
    const tenantId = studio.tenantId;
    const customerId = customer.id;
    counts.customers.seen += 1;
    const [local] = await read<{ createdAt: number | string | null }>(
      `SELECT "createdAt" FROM ${TABLES.customers} WHERE "tenantId" = ? AND "customerId" = ?`,
      [tenantId, customerId],
    );
    if (local && local.createdAt !== null) {
      counts.customers.present += 1;
      return [];
    }
    return [
      {
        kind: 'customers',
        studioId: studio.id,
        entityId: customerId,
        occurredAt: customer.createdDateTime?.getTime() ?? at,
        upstreamId: customerId,
        action: 'created',
        content: {},
      },
    ];
  },
};

/**
 * Customers we know from this studio that the upstream no longer lists: deleted (404) or not. Not
 * those whose access is disabled: they are not read again (the answer would be 403 anyway). A
 * deletion has no time in the Open API: the repair gets the time of the run.
 */
export const DELETED_CUSTOMER_RECONCILE: ReconcileHook<'deletedCustomers'> = {
  synthesises: { deletedCustomers: 'CUSTOMER_DELETED' },
  afterAll: async ({ studio, api, at, counts, read, listed, repair, signal }) => {
    const known = await read<{ customerId: number | string }>(
      `SELECT "customerId" FROM ${TABLES.customers} WHERE "tenantId" = ? AND "studioId" = ? AND "deletedAt" IS NULL AND "accessDisabledAt" IS NULL`,
      [studio.tenantId, studio.id],
    );
    for (const row of known) {
      const customerId = Number(row.customerId);
      if (listed.has(customerId)) continue;
      if (signal?.aborted) throw new ReconcileError('reconciliation stopped');
      const gone = await api.getCustomer(customerId).then(
        () => false,
        (error: unknown) => {
          if (error instanceof OpenApiError && error.status === 404) return true;
          throw error;
        },
      );
      if (!gone) continue; // Listed by another studio (its home), or access restricted: not ours to judge.
      counts.deletedCustomers.seen += 1;
      await repair([
        {
          kind: 'deletedCustomers',
          studioId: studio.id,
          entityId: customerId,
          occurredAt: at,
          upstreamId: customerId,
          action: 'deleted',
          content: {},
        },
      ]);
    }
  },
};
