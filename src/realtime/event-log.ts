import type { DataSource } from 'typeorm';
import { SqlReader } from '../db/sql-reader.js';
import { EventRecord, parseContent } from '../domains/events/event-record.entity.js';
import { ErrorCode, clientError } from '../graphql/errors.js';
import type { LoggedEvent } from '../ingest/ingestor.js';

/**
 * Which events a subscription wants. Every condition given must hold; an empty list matches
 * nothing. The same selector filters the live feed (in memory) and the replay (in SQL), so a
 * resumed subscription sees exactly what a live one would have. The fan-out hub also routes by it
 * (selector-index.ts: by entity ids, else types, else studios, else tenants), so a restriction
 * that narrows what a viewer receives (its scope, a member's own customer) belongs here, where it
 * also narrows which subscriptions an event is offered to, not only in a subscription's `map`.
 */
export interface EventSelector {
  /** The viewer's studios (null: every studio); never widened by the other conditions. */
  readonly scope: readonly number[] | null;
  readonly studioIds?: readonly number[] | null | undefined;
  readonly tenantIds?: readonly number[] | null | undefined;
  readonly types?: readonly string[] | null | undefined;
  readonly entityIds?: readonly number[] | null | undefined;
  /** Conditions on `content`, checked in memory (after SQL on replay). */
  readonly content?: ((content: LoggedEvent['content']) => boolean) | undefined;
}

const within = <T>(list: readonly T[] | null | undefined, value: T) => list == null || list.includes(value);

export function matches(selector: EventSelector, event: LoggedEvent): boolean {
  return (
    within(selector.scope, event.studioId) &&
    within(selector.studioIds, event.studioId) &&
    within(selector.tenantIds, event.tenantId) &&
    within(selector.types, event.type) &&
    within(selector.entityIds, event.entityId) &&
    (selector.content === undefined || selector.content(event.content))
  );
}

/** One page of the log read forward. */
export interface LogPage {
  /** The matching events, in `seq` order. */
  readonly events: LoggedEvent[];
  /** The last `seq` read (matching or not); undefined when nothing follows `afterSeq`. */
  readonly lastSeq: number | undefined;
}

/**
 * Reads the event log forward from a `seq`: replay for resumed subscriptions and feed repair.
 * Through {@link SqlReader}: off the main thread on SQLite, and under the read timeout.
 */
export class EventLog {
  constructor(private readonly dataSource: DataSource) {}

  async page(selector: EventSelector, afterSeq: number, limit: number): Promise<LogPage> {
    const qb = this.dataSource.getRepository(EventRecord).createQueryBuilder('event').where('event.seq > :afterSeq', { afterSeq });
    let parameter = 0;
    for (const [column, values] of [
      ['event.studioId', selector.scope],
      ['event.studioId', selector.studioIds],
      ['event.tenantId', selector.tenantIds],
      ['event.type', selector.types],
      ['event.entityId', selector.entityIds],
    ] as const) {
      if (values == null) continue;
      if (values.length === 0) return { events: [], lastSeq: undefined };
      const name = `selector${++parameter}`;
      qb.andWhere(`${column} IN (:...${name})`, { [name]: values });
    }
    const rows = await SqlReader.of(this.dataSource).entities(qb.orderBy('event.seq', 'ASC').limit(limit));
    const events = rows.map(toLoggedEvent);
    return {
      events: selector.content ? events.filter((event) => selector.content!(event.content)) : events,
      lastSeq: events[events.length - 1]?.seq,
    };
  }

  /** The highest `seq` in the log (0 when empty). */
  async lastSeq(): Promise<number> {
    const reader = SqlReader.of(this.dataSource);
    const events = reader.shape(EventRecord);
    const [row] = await reader.all<{ max: number | string | null }>(`SELECT MAX("${events.column('seq')}") AS "max" FROM "${events.table}"`);
    return Number(row?.max ?? 0);
  }
}

export function toLoggedEvent(record: EventRecord): LoggedEvent {
  return {
    seq: record.seq, uuid: record.uuid, position: record.position, studioId: record.studioId, tenantId: record.tenantId,
    type: record.type, known: Boolean(record.known), entityId: record.entityId, content: parseContent(record.content),
    occurredAt: record.occurredAt.getTime(), receivedAt: record.receivedAt.getTime(),
  };
}

/** The GraphQL `Event` for a logged event (a fresh object per subscriber: resolvers may read it freely). */
export function toEventRecord(event: LoggedEvent): EventRecord {
  return Object.assign(new EventRecord(), {
    seq: event.seq, uuid: event.uuid, position: event.position, studioId: event.studioId, tenantId: event.tenantId,
    type: event.type, known: event.known, entityId: event.entityId, content: event.content === null ? null : JSON.stringify(event.content),
    occurredAt: new Date(event.occurredAt), receivedAt: new Date(event.receivedAt),
  });
}

/**
 * A subscription's `after`: an event's `seq` ("1042") or a cursor of the `events` connection
 * (which encodes the seq). Returns the seq.
 */
export function parseEventCursor(after: string, argument = 'after'): number {
  if (/^\d{1,16}$/.test(after) && Number.isSafeInteger(Number(after))) return Number(after);
  try {
    const parsed: unknown = JSON.parse(Buffer.from(after, 'base64url').toString('utf8'));
    if (Array.isArray(parsed) && parsed.length === 2 && Number.isSafeInteger(parsed[0]) && parsed[0] === parsed[1] && parsed[0] >= 0) return parsed[0] as number;
  } catch {
    /* fall through */
  }
  throw clientError(ErrorCode.BAD_USER_INPUT, `${argument}: expected an event seq (e.g. "1042") or a cursor of the events connection, got ${JSON.stringify(after.slice(0, 60))}`);
}
