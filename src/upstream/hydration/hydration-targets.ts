import { unreachable } from '../../ingest/event-types.js';
import { toKnownEvent, type LoggedEvent } from '../../ingest/ingestor.js';
import type { HydrationKind } from './hydration-job.entity.js';

/** The event type hydration appends when it changed a record (see hydration.ts). */
export const RECORD_HYDRATED_EVENT_TYPE = 'GYMGRAPH_RECORD_HYDRATED';

/** What the slot read needs besides the slot id. */
export interface JobParams {
  readonly classId?: number;
}

/**
 * One thing to read from the Open API because of an event.
 * - `refresh`: the event says the thing changed: queue a read (a job already waiting stays due; a
 *   done or parked one is queued again; a running one runs again afterwards).
 * - `ensure`: the event only mentions the thing (a check-in names a customer): queue a read if there
 *   never was a job for it, otherwise leave it alone — a customer who checks in every day is read once.
 */
export interface HydrationTarget {
  readonly kind: HydrationKind;
  /** The upstream id, as text. */
  readonly key: string;
  readonly params: JobParams | null;
  readonly mode: 'refresh' | 'ensure';
}

const target = (kind: HydrationKind, id: number, mode: HydrationTarget['mode'] = 'refresh', params: JobParams | null = null): HydrationTarget => ({
  kind, key: String(id), params, mode,
});

/**
 * What an event asks hydration to read. Exhaustive over the known types (a new type that is not
 * mapped fails to compile); unknown types, and the service's own GYMGRAPH_RECORD_HYDRATED, ask for
 * nothing — so hydration never feeds on itself.
 */
export function hydrationTargets(logged: LoggedEvent): HydrationTarget[] {
  if (logged.type === RECORD_HYDRATED_EVENT_TYPE) return [];
  const event = toKnownEvent(logged);
  if (!event) return [];
  switch (event.type) {
    case 'CUSTOMER_CREATED':
    case 'CUSTOMER_UPDATED':
    case 'CUSTOMER_DELETED':
    case 'AGGREGATOR_MEMBER_CREATED':
      return [target('customer', event.entityId)];
    case 'CUSTOMER_CHECKIN':
    case 'CUSTOMER_CHECKOUT':
      return [target('customer', event.entityId, 'ensure')];
    case 'AUTOMATIC_CUSTOMER_CHECKOUT':
      // The check-outs are in the event; each customer is read once if we have never read them.
      return event.content.checkouts.map((checkout) => target('customer', checkout.customerId, 'ensure'));
    case 'CUSTOMER_COMMUNICATION_PREFERENCES_UPDATED':
      return [target('communication_preferences', event.entityId), target('customer', event.entityId, 'ensure')];
    case 'CONTRACT_CREATED':
    case 'CONTRACT_UPDATED':
      // No get-by-id upstream: one read of the customer's contract list serves all of them.
      return [target('contracts', event.entityId), target('customer', event.entityId, 'ensure')];
    case 'CLASS_BOOKING_CREATED':
    case 'CLASS_BOOKING_UPDATED':
    case 'CLASS_BOOKING_CANCELLED':
      return [target('class_booking', event.entityId)];
    case 'CLASS_SLOT_UPDATED':
    case 'CLASS_SLOT_CANCELLED':
      return [target('class_slot', event.entityId, 'refresh', { classId: event.content.classId }), target('class', event.content.classId)];
    case 'APPOINTMENT_BOOKING_CREATED':
    case 'APPOINTMENT_BOOKING_UPDATED':
    case 'APPOINTMENT_BOOKING_CANCELLED':
      return [target('appointment_booking', event.entityId)];
    case 'DEVICE_CREATED':
      return [target('device', event.entityId)];
    case 'FINANCE_DEBT_COLLECTION_RUN_CREATED':
      return [target('debt_collection_run', event.entityId)];
    case 'TAX_ADVISOR_EXPORT_CREATED':
      return [target('tax_advisor_export', event.entityId)];
    default:
      return unreachable(event);
  }
}
