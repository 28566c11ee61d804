import type { DataSource } from 'typeorm';
import { SqlReader } from '../db/sql-reader.js';
import type { SqlTx } from '../db/sql-writer.js';
import type { LoggedEvent } from '../events/logged-event.js';
import { EVENT_SUBSCRIPTIONS, recordKey, type EventSubscriptionSpec } from './event-type-fields.subscription.js';
import type { SharedLoads } from './shared-loads.js';

export interface RecordPreloadOptions {
  readonly dataSource: DataSource;
  /** Where the subscription fields look for an event's records (RealtimeServices.shared). */
  readonly shared: SharedLoads;
  /** The records of the event the subscriptions of this instance will load, or undefined (FanoutHub.wantsRecords). */
  readonly wanted: (event: LoggedEvent) => ReadonlySet<string> | undefined;
  /** Events of one batch whose records are read in its transaction; the rest are read after it. @default 32 */
  readonly maxEvents?: number;
}

const subscriptionOf = (type: string): EventSubscriptionSpec | undefined =>
  (EVENT_SUBSCRIPTIONS as Readonly<Record<string, EventSubscriptionSpec | undefined>>)[type];

/**
 * PostgreSQL: the records of a batch's events that the subscriptions of this instance will deliver
 * (those their selections name, FanoutHub.wantsRecords), read inside the batch's transaction
 * (Ingestor's `withinCommit`). Their lookups are queued after the batch's writes and travel in the
 * message that carries COMMIT, so the delivery no longer waits for a round trip to the database
 * after the commit: the records are in `shared` before the events are announced. Without it, each
 * member event cost one or two lookups of 0.6–0.8 ms after the commit (bench/README.md, "Member
 * apps"); the transaction pays the lookups' time on the server instead, not a round trip.
 *
 * Only what cannot fail inside the transaction is queued (SqlReader.within: lookups of integer
 * keys); a family whose load reads anything else, or reads in two steps, fails here and is read
 * after the commit as before. The records are those the transaction leaves, as the subscription
 * field describes them ("as it stands after" the event; a later event of the same batch included,
 * as with a read after the commit). Other instances (Redis) read them after the announcement.
 */
export function recordPreload(
  options: RecordPreloadOptions,
): (tx: SqlTx, events: readonly LoggedEvent[]) => (() => Promise<void>) | undefined {
  const maxEvents = options.maxEvents ?? 32;
  return (tx, events) => {
    let view: ReturnType<typeof SqlReader.within> | undefined;
    const loads: { readonly seq: number; readonly records: ReadonlySet<string>; readonly load: Promise<object> }[] = [];
    try {
      for (const event of events) {
        if (loads.length >= maxEvents) break;
        const spec = subscriptionOf(event.type);
        const records = spec && options.wanted(event);
        if (!spec || !records) continue;
        view ??= SqlReader.within(options.dataSource, tx);
        let load: Promise<object>;
        try {
          load = spec.family.load(event, view.dataSource, (record) => records.has(record));
        } catch {
          continue; // it read in a way the view refuses: after the commit, as usual
        }
        load.catch(() => undefined); // settled below; a refused read only means "after the commit"
        loads.push({ seq: event.seq, records, load });
      }
    } finally {
      // Every lookup the loads make at once is queued by now; one that comes later is refused.
      view?.close();
    }
    if (loads.length === 0) return undefined;
    return async () => {
      // Settled by COMMIT's answer (their continuations are microtasks). A load still waiting after
      // that waits for something else: it is not kept, and the announcement does not wait for it.
      const settled = await Promise.race([
        Promise.allSettled(loads.map(({ load }) => load)),
        new Promise<undefined>((resolve) => setImmediate(resolve, undefined)),
      ]);
      settled?.forEach((result, i) => {
        if (result.status !== 'fulfilled') return;
        const { seq, records } = loads[i]!;
        const values = result.value as Readonly<Record<string, unknown>>;
        for (const record of records) options.shared.put(recordKey(seq, record), values[record] ?? null);
      });
    };
  };
}
