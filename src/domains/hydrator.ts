import type { SqlTx } from '../db/sql-writer.js';
import { OpenApiError, type OpenApi } from '../upstream/open-api.js';
import type { HydrationKind, HydrationTarget, JobParams } from './hydration-target.js';
import type { HydratedRecordKind, RecordChange } from './record-writes.js';

/** A claimed job, as the runner hands it over. */
export interface ClaimedJob {
  readonly id: number;
  readonly tenantId: number;
  readonly studioId: number;
  readonly kind: HydrationKind;
  readonly upstreamKey: string;
  readonly params: JobParams | null;
  /** Including this one. */
  readonly attempts: number;
  /** The `seq` of the latest event that asked for the job. */
  readonly lastSeq: number;
}

/** What a finished read writes, inside the transaction that also marks the job done. */
export interface WriteResult {
  readonly changes: readonly RecordChange[];
  /** Something worth telling an operator (the upstream no longer has the record, ...). */
  readonly note: string | null;
  /** Further reads this answer asked for (a booking names its class). */
  readonly followUps: readonly HydrationTarget[];
}

export type RecordWrite = (tx: SqlTx, now: number) => Promise<WriteResult>;

/** Reads hydration needs from our own records before it calls the upstream. */
export interface HydrationReads {
  /**
   * True when CUSTOMER_DELETED or CUSTOMER_ACCESS_DISABLED arrived for the customer: the upstream
   * would answer 404/403, so it is not read again, only erased.
   */
  customerGone(tenantId: number, customerId: number): Promise<boolean>;
  /** The class of a slot record, when the job does not carry it. */
  slotClassId(tenantId: number, slotId: number): Promise<number | null>;
  /** True when EMPLOYEE_DELETED arrived for the employee: it is not read again, only erased. */
  employeeDeleted(tenantId: number, employeeId: number): Promise<boolean>;
}

/**
 * Reads what `job` names from the Open API and returns how to write it. A 404/403 is an answer, not
 * a failure: a customer's personal data is erased, anything else keeps what the events made and the
 * job notes it. Every other failure is thrown (the runner retries it).
 */
export type Hydrator = (job: ClaimedJob, api: OpenApi, reads: HydrationReads) => Promise<RecordWrite>;

/** An area's hydrators: the kinds whose records it owns (src/domains/areas.ts merges them, one per kind). */
export type Hydrators = { readonly [K in HydrationKind]?: Hydrator };

/** A finished write: what changed, a note for the operator, further reads. */
export const done = (changes: RecordChange[] = [], note: string | null = null, followUps: HydrationTarget[] = []): WriteResult => ({
  changes,
  note,
  followUps,
});
/** The change of one record, or none when no column changed (or there was no record). */
export const change = (record: HydratedRecordKind, entityId: number, changed: readonly string[] | null, erased = false): RecordChange[] =>
  changed && changed.length > 0 ? [{ record, entityId, changed, erased }] : [];
/** The note of a 404/403 that leaves the record as the events made it. */
export const notFound = (what: string) =>
  `the upstream answered that ${what} does not exist (404) or may not be read (403); the record stays as the events made it`;
/** The note of a job whose record is not (yet) here. */
export const noRecord = (what: string) => `no ${what} record here to fill`;

/** Runs `read`; a 404/403 becomes `onGone()` instead of an error. */
export async function readOr<T>(
  read: () => Promise<T>,
  onGone: (error: OpenApiError) => RecordWrite,
): Promise<{ value: T } | { gone: RecordWrite }> {
  try {
    return { value: await read() };
  } catch (error) {
    if (error instanceof OpenApiError && error.gone) return { gone: onGone(error) };
    throw error;
  }
}

/** An upstream date-time as epoch milliseconds, the way records store it. */
export const ms = (date: Date | null): number | null => (date === null ? null : date.getTime());
