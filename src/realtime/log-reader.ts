import type { DataSource } from 'typeorm';
import { SqlReader } from '../db/sql-reader.js';
import { EventRecord, parseContent } from '../domains/events/event-record.entity.js';
import { ErrorCode, clientError } from '../api/errors.js';
import type { EventSelector } from '../api/stream-selector.js';
import type { LoggedEvent } from '../events/logged-event.js';

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
  /** The matching events, in `seq` order. Possibly shared by several readers: never change it. */
  readonly events: readonly LoggedEvent[];
  /** The last `seq` read (matching or not); undefined when nothing follows `afterSeq`. */
  readonly lastSeq: number | undefined;
}

/** Full pages remembered (see {@link EventLog.page}): at most this many times `limit` events in memory. */
const SHARED_PAGES = 64;

/** A page as read, and whether it held `limit` rows (before the `content` filter). */
interface ReadPage {
  readonly page: LogPage;
  readonly full: boolean;
}

/**
 * Reads the event log forward from a `seq`: replay for resumed subscriptions and feed repair.
 * Through {@link SqlReader}: off the main thread on SQLite, and under the read timeout.
 *
 * Replays of the same selector from the same `seq` share their reads: a reconnect storm resumes
 * hundreds of subscriptions of the same shape from the same event, and each would otherwise read
 * (and parse, on this thread on PostgreSQL) the same pages. Only a *full* page is shared: it ends
 * before the tail of the log, and since `seq` follows commit order (sql-writer.ts) nothing can
 * ever be added to it. A page that reached the tail is the reader's own: a subscription must read
 * the tail after it began listening to the feed (resume-stream.ts), so one that asked for the same
 * page while another's read of the tail was under way reads it again.
 */
export class EventLog {
  /** Reads of full pages, recent or under way, by selector and position; the oldest are forgotten. */
  private readonly pages = new Map<string, Promise<ReadPage>>();

  constructor(private readonly dataSource: DataSource) {}

  async page(selector: EventSelector, afterSeq: number, limit: number): Promise<LogPage> {
    // A condition on content is a function: such selectors cannot be told apart, so are not shared.
    if (selector.content) return (await this.read(selector, afterSeq, limit)).page;
    const key = JSON.stringify([
      selector.scope,
      selector.studioIds,
      selector.tenantIds,
      selector.types,
      selector.entityIds,
      afterSeq,
      limit,
    ]);
    const known = this.pages.get(key);
    if (known) {
      const shared = await known.catch(() => undefined);
      if (shared?.full) return shared.page;
      return (await this.read(selector, afterSeq, limit)).page;
    }
    const reading = this.read(selector, afterSeq, limit);
    this.pages.set(key, reading);
    if (this.pages.size > SHARED_PAGES) this.pages.delete(this.pages.keys().next().value!);
    const forget = () => {
      if (this.pages.get(key) === reading) this.pages.delete(key);
    };
    reading.then((read) => read.full || forget(), forget);
    return (await reading).page;
  }

  private async read(selector: EventSelector, afterSeq: number, limit: number): Promise<ReadPage> {
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
      if (values.length === 0) return { page: { events: [], lastSeq: undefined }, full: false };
      const name = `selector${++parameter}`;
      qb.andWhere(`${column} IN (:...${name})`, { [name]: values });
    }
    const rows = await SqlReader.of(this.dataSource).entities(qb.orderBy('event.seq', 'ASC').limit(limit));
    const events = rows.map(toLoggedEvent);
    return {
      page: {
        events: selector.content ? events.filter((event) => selector.content!(event.content)) : events,
        lastSeq: events[events.length - 1]?.seq,
      },
      full: rows.length === limit,
    };
  }

  /** The highest `seq` in the log (0 when empty). */
  async lastSeq(): Promise<number> {
    const reader = SqlReader.of(this.dataSource);
    const events = reader.shape(EventRecord);
    const [row] = await reader.all<{ max: number | string | null }>(
      `SELECT MAX("${events.column('seq')}") AS "max" FROM "${events.table}"`,
    );
    return Number(row?.max ?? 0);
  }
}

export function toLoggedEvent(record: EventRecord): LoggedEvent {
  return {
    seq: record.seq,
    uuid: record.uuid,
    position: record.position,
    studioId: record.studioId,
    tenantId: record.tenantId,
    type: record.type,
    known: Boolean(record.known),
    entityId: record.entityId,
    content: parseContent(record.content),
    occurredAt: record.occurredAt.getTime(),
    receivedAt: record.receivedAt.getTime(),
  };
}

/** The GraphQL `Event` for a logged event (a fresh object per subscriber: resolvers may read it freely). */
export function toEventRecord(event: LoggedEvent): EventRecord {
  return Object.assign(new EventRecord(), {
    seq: event.seq,
    uuid: event.uuid,
    position: event.position,
    studioId: event.studioId,
    tenantId: event.tenantId,
    type: event.type,
    known: event.known,
    entityId: event.entityId,
    content: event.content === null ? null : JSON.stringify(event.content),
    occurredAt: new Date(event.occurredAt),
    receivedAt: new Date(event.receivedAt),
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
    if (Array.isArray(parsed) && parsed.length === 2 && Number.isSafeInteger(parsed[0]) && parsed[0] === parsed[1] && parsed[0] >= 0)
      return parsed[0] as number;
  } catch {
    /* fall through */
  }
  throw clientError(
    ErrorCode.BAD_USER_INPUT,
    `${argument}: expected an event seq (e.g. "1042") or a cursor of the events connection, got ${JSON.stringify(after.slice(0, 60))}`,
  );
}
