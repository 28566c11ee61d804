import { projectEvent } from '../domains/areas.js';
import { BatchProjectors } from '../domains/batch-projectors.js';
import type { SqlTx } from '../db/sql-writer.js';
import { VisitProjector, type VisitWindows } from '../domains/visits/visit.projector.js';
import type { KnownEvent } from '../events/event-catalog.js';

/**
 * Applies a batch of newly logged events to the records, inside the batch's transaction: each
 * event through the area that owns its type (src/domains/areas.ts). `ahead`: the reads
 * {@link readAhead} queued, valid only if nothing was deleted from the log since.
 */
export async function project(events: readonly KnownEvent[], tx: SqlTx, ahead?: ProjectionReads): Promise<void> {
  const records = new BatchProjectors();
  for (const event of events) projectEvent(event, records);
  await records.write(tx, ahead?.visits);
}

/** The reads of {@link project} made ahead. */
export interface ProjectionReads {
  readonly visits: VisitWindows;
}

/** An event of the batch that may turn out new. */
export interface CandidateEvent {
  readonly tenantId: number;
  readonly entityId: number;
  readonly type: string;
  readonly occurredAt: number;
}

/**
 * Queues (SqlTx.allLater) the reads {@link project} needs, for events that may be new: on
 * PostgreSQL they travel in one message with the batch's INSERT, which they follow, instead of a
 * round trip of their own after it. Only the visits read the log.
 */
export function readAhead(tx: SqlTx, candidates: readonly CandidateEvent[]): ProjectionReads {
  return {
    visits: VisitProjector.readAhead(
      tx,
      candidates
        .filter((event) => event.type === 'CUSTOMER_CHECKIN' || event.type === 'CUSTOMER_CHECKOUT')
        .map((event) => ({ tenantId: event.tenantId, customerId: event.entityId, occurredAt: event.occurredAt })),
    ),
  };
}
