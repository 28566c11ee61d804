import type { Param, SqlTx, SqlWriter } from '../db/sql-writer.js';
import type { Logger } from '../log.js';
import type { Delivery } from './delivery.js';
import { parseId } from './delivery.js';
import { REQUIRED_CONTENT, isKnownEventType, type KnownEvent } from './event-types.js';
import { project } from './projection.js';

/** A delivery whose key matched an active studio and whose body passed validation. */
export interface Submission {
  readonly studioId: number;
  readonly tenantId: number;
  readonly delivery: Delivery;
  /** Epoch ms. */
  readonly receivedAt: number;
}

/** One element of a delivery as it stands in the event log: plain data, safe to publish anywhere. */
export interface LoggedEvent {
  readonly seq: number;
  readonly uuid: string;
  readonly position: number;
  readonly studioId: number;
  readonly tenantId: number;
  readonly type: string;
  readonly known: boolean;
  readonly entityId: number;
  readonly content: Readonly<Record<string, unknown>> | null;
  readonly occurredAt: number;
  readonly receivedAt: number;
}

export type IngestOutcome =
  | { readonly status: 'stored'; readonly stored: number; readonly duplicates: number; readonly events: readonly LoggedEvent[] }
  /** The studio was disabled between the key check and the commit: nothing stored. */
  | { readonly status: 'studio-disabled' };

export class IngestOverloadedError extends Error {
  constructor() {
    super('too many deliveries waiting to be stored');
  }
}

export interface IngestorOptions {
  /** Most events per transaction. @default 500 */
  readonly maxBatchEvents?: number;
  /** Deliveries allowed to wait for a transaction before new ones get 503. @default 20000 */
  readonly maxQueued?: number;
  /**
   * Called with the events of each committed batch, in sequence order, after the batch's webhooks
   * were answered. The next batch (of any instance sharing the database) waits until the returned
   * promise settles, so announcements leave in commit order; keep it short. Errors are logged.
   */
  readonly onCommitted?: (events: readonly LoggedEvent[]) => void | Promise<void>;
}

interface Pending {
  readonly submission: Submission;
  resolve(outcome: IngestOutcome): void;
  reject(error: unknown): void;
}

/**
 * Group commit. Deliveries arriving while a transaction is open wait and go together in the next
 * one, so under load one commit (and one fsync) serves hundreds of webhooks, and at low rates each
 * delivery still commits at once. A webhook is acknowledged only after the transaction holding its
 * events and their effects has committed.
 */
export class Ingestor {
  private readonly queue: Pending[] = [];
  private flushing: Promise<void> | undefined;
  private readonly maxBatchEvents: number;
  private readonly maxQueued: number;

  constructor(
    private readonly writer: SqlWriter,
    private readonly logger: Logger,
    private readonly options: IngestorOptions = {},
  ) {
    this.maxBatchEvents = options.maxBatchEvents ?? 500;
    this.maxQueued = options.maxQueued ?? 20_000;
  }

  /** Stores a delivery; resolves once it is durable (or known to be a duplicate). */
  submit(submission: Submission): Promise<IngestOutcome> {
    if (this.queue.length >= this.maxQueued) return Promise.reject(new IngestOverloadedError());
    return new Promise((resolve, reject) => {
      this.queue.push({ submission, resolve, reject });
      this.flushing ??= this.flushLoop();
    });
  }

  /** Resolves when every submitted delivery has been answered. */
  async drain(): Promise<void> {
    while (this.flushing) await this.flushing;
  }

  private async flushLoop(): Promise<void> {
    // Let the requests that arrived in this tick join the first batch.
    await new Promise<void>((resolve) => setImmediate(resolve));
    try {
      while (this.queue.length > 0) {
        const batch = this.takeBatch();
        try {
          await this.commit(batch);
        } catch (error) {
          if (batch.length === 1) {
            this.logger.error({ err: error, uuid: batch[0]!.submission.delivery.uuid }, 'could not store delivery');
            batch[0]!.reject(error);
          } else {
            // One bad delivery must not fail its neighbours: retry each on its own.
            this.logger.warn({ err: error, deliveries: batch.length }, 'batch failed; retrying deliveries one by one');
            for (const pending of batch) {
              await this.commit([pending]).catch((err: unknown) => {
                this.logger.error({ err, uuid: pending.submission.delivery.uuid }, 'could not store delivery');
                pending.reject(err);
              });
            }
          }
        }
      }
    } finally {
      this.flushing = undefined;
    }
  }

  private takeBatch(): Pending[] {
    const batch: Pending[] = [];
    let events = 0;
    while (this.queue.length > 0) {
      const size = this.queue[0]!.submission.delivery.elements.length;
      if (batch.length > 0 && events + size > this.maxBatchEvents) break;
      batch.push(this.queue.shift()!);
      events += size;
    }
    return batch;
  }

  private async commit(batch: Pending[]): Promise<void> {
    await this.writer.transaction(
      (tx) => store(tx, batch.map((p) => p.submission)),
      async (outcomes) => {
        const committed: LoggedEvent[] = [];
        batch.forEach((pending, index) => {
          const outcome = outcomes[index]!;
          if (outcome.status === 'stored') committed.push(...outcome.events);
          pending.resolve(outcome);
        });
        if (committed.length === 0 || !this.options.onCommitted) return;
        committed.sort((a, b) => a.seq - b.seq);
        try {
          await this.options.onCommitted(committed);
        } catch (error) {
          this.logger.error({ err: error, events: committed.length, lastSeq: committed[committed.length - 1]!.seq }, 'publishing committed events failed');
        }
      },
    );
  }
}

const INSERT_EVENTS = `INSERT INTO events ("uuid", "position", "studioId", "tenantId", "type", "known", "entityId", "content", "occurredAt", "receivedAt")`;
const ON_DUPLICATE = `ON CONFLICT ("tenantId", "uuid", "position") DO NOTHING RETURNING "seq", "tenantId", "uuid", "position"`;

/** Logs the batch's events (skipping ones already logged) and applies the new ones, in one transaction. */
async function store(tx: SqlTx, submissions: readonly Submission[]): Promise<IngestOutcome[]> {
  const active = await activeStudios(tx, submissions);
  const accepted = submissions.filter((s) => active.has(s.studioId));

  const rows: Param[][] = [];
  for (const { studioId, tenantId, delivery, receivedAt } of accepted) {
    delivery.elements.forEach((element, position) => {
      rows.push([delivery.uuid, position, studioId, tenantId, element.type, element.known, delivery.entityId,
        element.content === null ? null : JSON.stringify(element.content), element.timestamp, receivedAt]);
    });
  }
  const inserted = await tx.insertMany<{ seq: number; tenantId: number; uuid: string; position: number }>(INSERT_EVENTS, rows, ON_DUPLICATE);
  const seqByKey = new Map(inserted.map((r) => [`${r.tenantId}|${r.uuid}|${r.position}`, Number(r.seq)]));

  const known: KnownEvent[] = [];
  const outcomes = submissions.map((submission): IngestOutcome => {
    if (!active.has(submission.studioId)) return { status: 'studio-disabled' };
    const { studioId, tenantId, delivery, receivedAt } = submission;
    const events: LoggedEvent[] = [];
    delivery.elements.forEach((element, position) => {
      const key = `${tenantId}|${delivery.uuid}|${position}`;
      const seq = seqByKey.get(key);
      if (seq === undefined) return; // already in the log: a re-delivery changes nothing
      seqByKey.delete(key); // the same delivery twice in one batch: only the first one is new
      const event: LoggedEvent = {
        seq, uuid: delivery.uuid, position, studioId, tenantId, type: element.type, known: element.known,
        entityId: delivery.entityId, content: element.content, occurredAt: element.timestamp, receivedAt,
      };
      events.push(event);
      const typed = toKnownEvent(event);
      if (typed) known.push(typed);
    });
    return { status: 'stored', stored: events.length, duplicates: delivery.elements.length - events.length, events };
  });

  await project(known, tx);
  return outcomes;
}

/** Re-checks, inside the transaction, that each studio is still active (the CLI may have disabled it). */
async function activeStudios(tx: SqlTx, submissions: readonly Submission[]): Promise<Set<number>> {
  const ids = [...new Set(submissions.map((s) => s.studioId))];
  const rows = await tx.all<{ id: number }>(
    `SELECT "id" FROM studios WHERE "status" = 'active' AND "id" IN (${ids.map(() => '?').join(', ')})`,
    ids,
  );
  return new Set(rows.map((r) => Number(r.id)));
}

/** The typed view of a logged event, or undefined for an unknown type. */
export function toKnownEvent(event: LoggedEvent): KnownEvent | undefined {
  if (!isKnownEventType(event.type)) return undefined;
  const required = REQUIRED_CONTENT[event.type];
  const raw = event.content?.[required?.field ?? ''];
  const content = required ? { [required.field]: required.kind === 'id' ? parseId(raw) : String(raw) } : {};
  // The webhook validator guarantees the required content field is present and well-formed.
  return { seq: event.seq, tenantId: event.tenantId, studioId: event.studioId, entityId: event.entityId,
    occurredAt: event.occurredAt, type: event.type, content } as KnownEvent;
}
