/**
 * The closed set of upstream event types this version applies to records, as a discriminated
 * union. Adding a type here without handling it in ingest/projection.ts fails to compile.
 * Types outside this set are still accepted and logged, marked unknown (the upstream adds types
 * without notice).
 */

export const KNOWN_EVENT_TYPES = [
  'AGGREGATOR_MEMBER_CREATED',
  'AUTOMATIC_CUSTOMER_CHECKOUT',
  'APPOINTMENT_BOOKING_CANCELLED',
  'APPOINTMENT_BOOKING_CREATED',
  'APPOINTMENT_BOOKING_UPDATED',
  'CONTRACT_CREATED',
  'CONTRACT_UPDATED',
  'CUSTOMER_CHECKIN',
  'CUSTOMER_CHECKOUT',
  'CUSTOMER_COMMUNICATION_PREFERENCES_UPDATED',
  'CUSTOMER_CREATED',
  'CUSTOMER_DELETED',
  'CUSTOMER_UPDATED',
  'CLASS_BOOKING_CANCELLED',
  'CLASS_BOOKING_CREATED',
  'CLASS_BOOKING_UPDATED',
  'CLASS_SLOT_CANCELLED',
  'CLASS_SLOT_UPDATED',
  'DEVICE_CREATED',
  'FINANCE_DEBT_COLLECTION_RUN_CREATED',
  'TAX_ADVISOR_EXPORT_CREATED',
] as const;

export type KnownEventType = (typeof KNOWN_EVENT_TYPES)[number];

const KNOWN = new Set<string>(KNOWN_EVENT_TYPES);
export function isKnownEventType(type: string): type is KnownEventType {
  return KNOWN.has(type);
}

/** What every event carries once it is in the log. */
interface EventBase {
  /** Event-log sequence number. */
  readonly seq: number;
  readonly tenantId: number;
  readonly studioId: number;
  readonly entityId: number;
  /** Upstream time, epoch ms. */
  readonly occurredAt: number;
}

type Plain<T extends KnownEventType> = EventBase & { readonly type: T };

/** One customer the studio checked out itself (AUTOMATIC_CUSTOMER_CHECKOUT `content.checkouts[]`). */
export interface AutomaticCheckout {
  /** The upstream customer id. */
  readonly customerId: number;
  /** `checkoutTime`, epoch ms. */
  readonly checkoutAt: number;
}

/** A known event with its typed content. `entityId`'s meaning depends on `type` (see upstream docs). */
export type KnownEvent =
  | (Plain<'AGGREGATOR_MEMBER_CREATED'> & { readonly content: { readonly aggregatorId: string } })
  /** `entityId` is the upstream **studio** id; the customers are in `content.checkouts`. */
  | (Plain<'AUTOMATIC_CUSTOMER_CHECKOUT'> & { readonly content: { readonly checkouts: readonly AutomaticCheckout[] } })
  | Plain<'APPOINTMENT_BOOKING_CANCELLED' | 'APPOINTMENT_BOOKING_CREATED' | 'APPOINTMENT_BOOKING_UPDATED'>
  | (Plain<'CONTRACT_CREATED' | 'CONTRACT_UPDATED'> & { readonly content: { readonly contractId: number } })
  | Plain<'CUSTOMER_CHECKIN' | 'CUSTOMER_CHECKOUT'>
  | Plain<'CUSTOMER_COMMUNICATION_PREFERENCES_UPDATED' | 'CUSTOMER_CREATED' | 'CUSTOMER_DELETED' | 'CUSTOMER_UPDATED'>
  | Plain<'CLASS_BOOKING_CANCELLED' | 'CLASS_BOOKING_CREATED' | 'CLASS_BOOKING_UPDATED'>
  | (Plain<'CLASS_SLOT_CANCELLED' | 'CLASS_SLOT_UPDATED'> & { readonly content: { readonly classId: number } })
  | Plain<'DEVICE_CREATED' | 'FINANCE_DEBT_COLLECTION_RUN_CREATED' | 'TAX_ADVISOR_EXPORT_CREATED'>;

/** Content fields that a known type requires, checked at the webhook boundary. */
export const REQUIRED_CONTENT: { readonly [T in KnownEventType]?: { readonly field: string; readonly kind: 'id' | 'string' | 'checkouts' } } = {
  AGGREGATOR_MEMBER_CREATED: { field: 'aggregatorId', kind: 'string' },
  AUTOMATIC_CUSTOMER_CHECKOUT: { field: 'checkouts', kind: 'checkouts' },
  CONTRACT_CREATED: { field: 'contractId', kind: 'id' },
  CONTRACT_UPDATED: { field: 'contractId', kind: 'id' },
  CLASS_SLOT_CANCELLED: { field: 'classId', kind: 'id' },
  CLASS_SLOT_UPDATED: { field: 'classId', kind: 'id' },
};

/** For the `default:` branch of a switch over a union: fails to compile when a case is missing. */
export function unreachable(value: never): never {
  throw new Error(`unhandled case: ${JSON.stringify(value)}`);
}
