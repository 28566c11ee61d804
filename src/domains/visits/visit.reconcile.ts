import { pages } from '../reconcile-pages.js';
import type { Repair, ReconcileHook } from '../reconcile-hook.js';
import { TABLES } from '../../db/tables.js';

const SYNTHESISES = { checkins: 'CUSTOMER_CHECKIN', checkouts: 'CUSTOMER_CHECKOUT' } as const;

/**
 * Check-ins and check-outs since `since`, matched by customer, type and exact upstream time; the
 * repair's upstream time is the upstream's own. A studio's automatic check-out of the customer is
 * their check-out too (the Open API shows it so).
 *
 * Attribution: a check-in is logged for the registered studio where it happened (matched through
 * each studio's `GET /v1/studios/information`); a check-in at a studio not registered here is
 * skipped, as its webhook could not have arrived either.
 */
export const VISIT_RECONCILE: ReconcileHook<'checkins' | 'checkouts'> = {
  synthesises: SYNTHESISES,
  perCustomer: async (customer, ctx) => {
    const { studio, api, at, counts } = ctx;
    const tenantId = studio.tenantId;
    const customerId = customer.id;
    const repairs: Repair<'checkins' | 'checkouts'>[] = [];
    const presence = await ctx.read<{ type: string; occurredAt: number | string }>(
      `SELECT "type", "occurredAt" FROM ${TABLES.events} WHERE "tenantId" = ? AND "entityId" = ? AND "occurredAt" >= ? AND "type" IN ('CUSTOMER_CHECKIN', 'CUSTOMER_CHECKOUT')
       UNION ALL SELECT 'CUSTOMER_CHECKOUT', "checkoutAt" FROM ${TABLES.automatic_checkouts} WHERE "tenantId" = ? AND "customerId" = ? AND "checkoutAt" >= ?`,
      [tenantId, customerId, ctx.since, tenantId, customerId, ctx.since],
    );
    const logged = new Set(presence.map((p) => `${p.type}@${Number(p.occurredAt)}`));
    const range = { from: new Date(ctx.since), to: new Date(at) };
    for await (const checkins of pages((slice) => api.listCheckins(customerId, range, slice))) {
      for (const checkin of checkins) {
        const where = checkin.studioId === null ? studio.id : ctx.studiosByUpstreamId.get(checkin.studioId);
        const moments = [
          { kind: 'checkins' as const, at: checkin.checkInDateTime, action: 'checkin' },
          { kind: 'checkouts' as const, at: checkin.checkOutDateTime, action: 'checkout' },
        ];
        for (const moment of moments) {
          if (moment.at === null || moment.at.getTime() < ctx.since) continue;
          counts[moment.kind].seen += 1;
          if (logged.has(`${SYNTHESISES[moment.kind]}@${moment.at.getTime()}`)) counts[moment.kind].present += 1;
          else if (where === undefined) {
            counts[moment.kind].skipped += 1;
            ctx.log.info(
              { customerId, checkinId: checkin.checkinId, upstreamStudioId: checkin.studioId },
              'missed check-in at a studio not registered here; skipped',
            );
          } else {
            repairs.push({
              kind: moment.kind,
              studioId: where,
              entityId: customerId,
              occurredAt: moment.at.getTime(),
              upstreamId: checkin.checkinId,
              action: moment.action,
              content: { checkinId: checkin.checkinId },
            });
          }
        }
      }
    }
    return repairs;
  },
};
