/** What a hydration job reads from the Open API, and which record it fills. Stored as the value. */
export const HYDRATION_KINDS = [
  'customer',
  'communication_preferences',
  'contracts',
  'class_booking',
  'class_slot',
  'class',
  'appointment_booking',
  'device',
  'debt_collection_run',
  'tax_advisor_export',
  'studio_information',
  'employee',
] as const;
export type HydrationKind = (typeof HYDRATION_KINDS)[number];

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

export function hydrationTarget(
  kind: HydrationKind,
  id: number,
  mode: HydrationTarget['mode'] = 'refresh',
  params: JobParams | null = null,
): HydrationTarget {
  return { kind, key: String(id), params, mode };
}
