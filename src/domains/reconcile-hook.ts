import type { Param } from '../db/sql-writer.js';
import type { KnownEventType } from '../events/event-catalog.js';
import type { Logger } from '../log.js';
import type { OpenApi, UpstreamCustomer } from '../upstream/open-api.js';

/**
 * What reconciliation compares, each counted on its own, in the order the CLI's and the API's
 * output show them. Each kind is reported by one area's hook (`reconcile` in its module).
 */
export const RECONCILE_KINDS = [
  'customers',
  'deletedCustomers',
  'contracts',
  'checkins',
  'checkouts',
  'classBookings',
  'classBookingCancellations',
  'appointmentBookings',
  'appointmentBookingCancellations',
] as const;
export type ReconcileKind = (typeof RECONCILE_KINDS)[number];

export interface ReconcileCounts {
  /** Things the upstream lists (for cancellations: cancelled bookings; for deletions: local customers the list no longer has). */
  seen: number;
  /** Already here (delivered by webhooks, or repaired before). */
  present: number;
  /** Missing here, so a synthesised event was submitted (or, in a dry run, would be). */
  repaired: number;
  /** Could not be attributed (a check-in at a studio not registered here, say); see the log. */
  skipped: number;
}

/** Why a studio cannot be reconciled: shown to the operator as it is. */
export class ReconcileError extends Error {
  override name = 'ReconcileError';
}

/**
 * What one synthesised event is. Its event type is the one its hook `synthesises` for its kind;
 * its uuid is derived from (tenant, kind, upstream id, action).
 */
export interface Repair<K extends ReconcileKind = ReconcileKind> {
  readonly kind: K;
  readonly studioId: number;
  readonly entityId: number;
  readonly occurredAt: number;
  /** The upstream id the uuid is derived from, and the action on it. */
  readonly upstreamId: number;
  readonly action: string;
  readonly content: Record<string, unknown>;
}

/** The studio being reconciled. */
export interface ReconciledStudio {
  readonly id: number;
  readonly tenantId: number;
}

/** What a hook gets from the run, for each customer and after all of them. */
export interface ReconcileContext<K extends ReconcileKind> {
  readonly studio: ReconciledStudio;
  /** The studio's Open API client. */
  readonly api: OpenApi;
  /** Check-ins from this time on are compared (ms since the epoch). */
  readonly since: number;
  /** The time of the run (ms since the epoch): the upstream time given to repairs whose upstream time is unknown. */
  readonly at: number;
  /** Upstream studio id -> our studio id, for every active studio of the tenant with a key. */
  readonly studiosByUpstreamId: ReadonlyMap<number, number>;
  /** A read of our own records and event log, outside any transaction, `?` placeholders (SqlWriter.read). */
  readonly read: <T>(sql: string, params?: readonly Param[]) => Promise<T[]>;
  /** The counts of the kinds the hook reports; `repaired` is the run's to count. */
  readonly counts: Record<K, ReconcileCounts>;
  readonly log: Logger;
}

/** What a hook gets after the run has paged through every customer the upstream lists. */
export interface AfterAllContext<K extends ReconcileKind> extends ReconcileContext<K> {
  /** The customers the upstream listed in this run. */
  readonly listed: ReadonlySet<number>;
  /** Counts the repairs and submits them (in a dry run, only counts). */
  readonly repair: (repairs: readonly Repair<K>[]) => Promise<void>;
  /** Stop when this says so (shutdown): throw `ReconcileError('reconciliation stopped')`. */
  readonly signal: AbortSignal | undefined;
}

/**
 * What an area compares with the Open API, for the kinds `K` it reports. A hook may compare per
 * customer the upstream lists (`perCustomer`: the repairs of one customer are submitted together,
 * or not at all when the customer cannot be read), and after all of them (`afterAll`: it submits
 * its repairs itself, as it finds them).
 */
export interface ReconcileHook<K extends ReconcileKind> {
  /** The event type a repair of each kind it reports synthesises; its area lists it under these kinds. */
  readonly synthesises: { readonly [k in K]: KnownEventType };
  readonly perCustomer?: (customer: UpstreamCustomer, ctx: ReconcileContext<K>) => Promise<readonly Repair<K>[]>;
  readonly afterAll?: (ctx: AfterAllContext<K>) => Promise<void>;
}

/**
 * A hook that reports `K`, perhaps with other kinds: what a table keyed by kind holds. A hook
 * listed under a kind it does not synthesise fails to compile.
 */
export type HookReporting<K extends ReconcileKind> = Omit<ReconcileHook<ReconcileKind>, 'synthesises'> &
  Pick<ReconcileHook<K>, 'synthesises'>;

/** Hooks keyed by the kinds they report. */
export type ReconcileHooks<K extends ReconcileKind = ReconcileKind> = { readonly [k in K]: HookReporting<k> };
