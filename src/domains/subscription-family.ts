import type { ClassType } from 'type-graphql';
import type { DataSource } from 'typeorm';
import type { Scope } from '../api/scope.js';
import type { StreamSelector } from '../api/stream-selector.js';
import type { RecordSubscriptionArgs } from '../api/subscription.args.js';
import { SqlReader } from '../db/sql-reader.js';
import type { LoggedEvent } from '../events/logged-event.js';
import type { EventRecord } from './events/event-record.entity.js';

/**
 * How the subscription field of an event type (src/realtime/event-type-fields.subscription.ts)
 * filters, loads and scopes its events: its payload is the event with the records it is about, as
 * they stand after it (null where the viewer may not see them). Each area says which family each of
 * its event types carries (`subscribe` in its `<area>.area.ts`).
 */
export interface SubscriptionFamily<A extends RecordSubscriptionArgs = RecordSubscriptionArgs, R extends object = object> {
  /**
   * An `@ObjectType({ simpleResolvers: true })` of plain `@Field`s, each named as its property: the
   * fields are read straight off the payload, without a type-graphql resolver around each (a member
   * event's render runs them for every group it reaches).
   */
  readonly payload: ClassType<{ event: EventRecord } & R>;
  readonly args: ClassType<A>;
  /** Conditions from the arguments besides `studioIds` and `after`, checked. */
  readonly select: (args: A) => Omit<StreamSelector, 'scope' | 'types' | 'studioIds'>;
  /**
   * The records the event is about, as they stand now, whoever asks. `wants` says which records
   * (payload fields) to read (absent: every one). A family of several records must read only those
   * ({@link ifWanted}) and leave the others null: each record is shared under its own key, and a
   * record missing there is read by a load told to read it alone. One of a single record may
   * ignore it (the subscription field loads nothing when no record is selected).
   */
  readonly load: (event: LoggedEvent, dataSource: DataSource, wants?: RecordWants) => Promise<R>;
  /**
   * What of `records` a viewer with `scope` may see (the event itself is within the scope). The
   * records a subscription did not select are missing: whether a record is visible may depend on
   * that record and the event only, never on another record.
   */
  readonly visible: (records: R, scope: Scope, event: LoggedEvent) => R;
  /**
   * Whose events a member receives: `entity`, the event's `entityId` is a customer id (only theirs
   * is listened to); a function, the customer id of the loaded record (events of records that are
   * not theirs, or not known yet, are skipped); `public`, everyone's (class slots); `forbidden`, none
   * (member-access.ts refuses the field before it gets here).
   */
  readonly member: 'entity' | 'public' | 'forbidden' | ((records: R) => number | null | undefined);
}

/** Whether a subscription selected the payload field `record` (SubscriptionFamily.load). */
export type RecordWants = (record: string) => boolean;

/** The record `read` returns when `wants` names it (or names nothing: every record), else null without a read. */
export const ifWanted = <T>(wants: RecordWants | undefined, record: string, read: () => Promise<T | null>): Promise<T | null> =>
  wants === undefined || wants(record) ? read() : Promise.resolve(null);

/**
 * A family, checked against its own arguments and records, then held as the plain
 * {@link SubscriptionFamily} every area's table holds. Safe because the subscription field hands
 * `select` the arguments parsed by `args`, and `visible` and `member` what `load` returned.
 */
export const family = <A extends RecordSubscriptionArgs, R extends object>(spec: SubscriptionFamily<A, R>): SubscriptionFamily =>
  spec as unknown as SubscriptionFamily;

/** A record belongs to the studio of its earliest event (the API's rule everywhere). */
export const ownedBy = <T extends { studioId: number }>(record: T | null, scope: Scope) =>
  record && scope.allows(record.studioId) ? record : null;

// Records are read through SqlReader: off the main thread on SQLite, and under the read timeout. A
// family's reads run side by side: a subscriber waits for the slower one, not for their sum.

/** The record of `entity` whose `column` is the event's `entityId`, within the event's tenant. */
export const byEntity =
  <T extends object>(entity: ClassType<T>, column: string) =>
  (event: LoggedEvent, dataSource: DataSource) =>
    SqlReader.of(dataSource).findOne<T>(entity, { tenantId: event.tenantId, [column]: event.entityId } as never);

/** An id in `content` (the validator accepted an integer or a digit string). */
export const contentId = (event: LoggedEvent, field: string) => Number(event.content?.[field]);

/** A `content` condition: `field` is one of `ids` (none when `ids` is null). */
export const inIds = (ids: readonly number[] | null, field: string) =>
  ids === null ? undefined : (content: LoggedEvent['content']) => ids.includes(Number(content?.[field]));

// The payload fields' words, shared by every family.
export const EVENT_FIELD = { description: 'The event, as stored in the log.' };
export const recordAfter = (what: string) => ({
  nullable: true,
  description: `${what}, as the record stands after the event; null when this token may not see it (it belongs to the studio of its earliest event).`,
});
