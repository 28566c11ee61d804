import type { OpenApi, Slice, SliceRequest } from '../../upstream/open-api.js';
import { pages } from '../reconcile-pages.js';
import type { Repair, ReconcileHook, ReconcileKind } from '../reconcile-hook.js';

/** What reconciliation needs of a class or appointment booking. */
type BookingView = { readonly bookingId: number; readonly bookingStatus: string };

/** One kind of booking as reconciliation compares it. */
export interface ReconciledBookings<Created extends ReconcileKind, Cancelled extends ReconcileKind> {
  /** The record table (`bookingId`, `status`, `createdAt`). */
  readonly table: string;
  /** The customer's bookings in the Open API, sliced. */
  readonly list: (api: OpenApi, customerId: number, slice: SliceRequest) => Promise<Slice<BookingView>>;
  /** The kind counting bookings, and the kind counting their cancellations. */
  readonly created: Created;
  readonly cancelled: Cancelled;
  readonly synthesises: ReconcileHook<Created | Cancelled>['synthesises'];
}

/**
 * The hook of one kind of booking: each booking of each customer the upstream lists is created here
 * if unknown here, and cancelled if cancelled upstream but not here. Bookings are listed per studio
 * key, so they belong to the studio being reconciled. A booking's creation or cancellation has no
 * time in the Open API, so the repair gets the time of the run: the booking was in that state when
 * we looked, so no event that happened before can be overtaken by it wrongly.
 */
export function bookingReconcileHook<Created extends ReconcileKind, Cancelled extends ReconcileKind>(
  kind: ReconciledBookings<Created, Cancelled>,
): ReconcileHook<Created | Cancelled> {
  return {
    synthesises: kind.synthesises,
    perCustomer: async (customer, { studio, api, at, counts, read }) => {
      const tenantId = studio.tenantId;
      const customerId = customer.id;
      const repairs: Repair<Created | Cancelled>[] = [];
      for await (const bookings of pages((s) => kind.list(api, customerId, s))) {
        if (bookings.length === 0) continue;
        const rows = await read<{ bookingId: number | string; status: string; createdAt: number | string | null }>(
          `SELECT "bookingId", "status", "createdAt" FROM ${kind.table} WHERE "tenantId" = ? AND "bookingId" IN (${bookings.map(() => '?').join(', ')})`,
          [tenantId, ...bookings.map((b) => b.bookingId)],
        );
        const here = new Map(rows.map((r) => [Number(r.bookingId), r]));
        for (const booking of bookings) {
          const row = here.get(booking.bookingId);
          counts[kind.created].seen += 1;
          if (row) counts[kind.created].present += 1;
          else {
            repairs.push({
              kind: kind.created,
              studioId: studio.id,
              entityId: booking.bookingId,
              occurredAt: at,
              upstreamId: booking.bookingId,
              action: 'created',
              content: { bookingId: booking.bookingId },
            });
          }
          if (booking.bookingStatus !== 'CANCELED' && booking.bookingStatus !== 'CANCELLED') continue;
          counts[kind.cancelled].seen += 1;
          if (row?.status === 'CANCELLED') counts[kind.cancelled].present += 1;
          else {
            repairs.push({
              kind: kind.cancelled,
              studioId: studio.id,
              entityId: booking.bookingId,
              occurredAt: at,
              upstreamId: booking.bookingId,
              action: 'cancelled',
              content: { bookingId: booking.bookingId },
            });
          }
        }
      }
      return repairs;
    },
  };
}
