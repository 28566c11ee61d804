import type { DataSource } from 'typeorm';
import { SqlReader } from '../../db/sql-reader.js';
import { ErrorCode, clientError } from '../../api/errors.js';
import { unreachable } from '../../events/event-catalog.js';
import { MAX_GROUPS, TooManyBucketsError, cyclicLabel } from '../stats/stats-query.js';
import { calendarPlan, dateDimensions, localDate, type CalendarBucket, type WallClock } from '../stats/time-buckets.js';
import { ClassReportGrouping, type ClassReportRow } from './class-report.types.js';
import { studiosSql } from './report-input.js';
import { TABLES } from '../../db/tables.js';

/** The most slots one report reads: beyond, the range must be narrowed (20,000 is a large studio's year). */
export const MAX_REPORT_SLOTS = 20_000;

export interface ClassReportInput {
  /** Studios of the slots and bookings. */
  readonly studios: readonly number[];
  /** Slots starting at or after (epoch ms); null: no lower bound. */
  readonly from: number | null;
  /** Slots starting before (epoch ms); null: no upper bound. */
  readonly to: number | null;
  readonly clock: WallClock;
  /** The dimensions of a row, in order (checked by the resolver: none twice, at most one period). */
  readonly groupBy: readonly ClassReportGrouping[];
}

/** One slot with its booking counts, as the statement returns it. */
interface SlotRow {
  readonly id: number;
  readonly tenantId: number;
  readonly slotId: number;
  readonly classId: number;
  readonly studioId: number;
  readonly status: string;
  readonly startAt: number;
  readonly endAt: number | null;
  readonly maxParticipants: number | null;
  readonly instructorNames: string | null;
  readonly booked: number;
  readonly waitingList: number;
  readonly cancellations: number;
  readonly attended: number;
  readonly noShows: number;
}

type Counts = Pick<ClassReportRow, 'slots' | 'cancelledSlots' | 'booked' | 'waitingList' | 'cancellations' | 'attended' | 'noShows'> & {
  capacity: number | null;
  /** Booked places of the slots with a known limit: what `fillRate` divides. */
  bookedLimited: number;
};

const HOLDS_PLACE = `b."status" = 'BOOKED' AND (b."bookingStatus" IS NULL OR b."bookingStatus" <> 'WAITING_LIST')`;

/**
 * Reads the slots starting in the range (hydrated ones: a slot's start comes from the Open API) with
 * their bookings counted by one GROUP BY over `class_slots` (index `class_slots_start`) and
 * `class_bookings` (index `class_bookings_slot`), then groups the slots as asked. Scoped like the
 * lists: a slot of a studio of the report, and bookings delivered by one.
 */
export async function classReport(dataSource: DataSource, input: ClassReportInput): Promise<ClassReportRow[]> {
  const reader = SqlReader.of(dataSource);
  const params = reader.params();
  const slotConditions = ['s."startAt" IS NOT NULL', ...studiosSql('s."studioId"', input.studios)];
  if (input.from !== null) slotConditions.push(`s."startAt" >= ${params.add(input.from)}`);
  if (input.to !== null) slotConditions.push(`s."startAt" < ${params.add(input.to)}`);
  const bookingStudios = studiosSql('b."studioId"', input.studios)
    .map((condition) => ` AND ${condition}`)
    .join('');
  const count = (condition: string) => `COUNT(CASE WHEN ${condition} THEN 1 END)`;
  const limit = params.add(MAX_REPORT_SLOTS + 1);
  const rows = await reader.scan<Record<keyof SlotRow, unknown>>(
    `SELECT s."id" AS "id", s."tenantId" AS "tenantId", s."slotId" AS "slotId", s."classId" AS "classId", s."studioId" AS "studioId",
            s."status" AS "status", s."startAt" AS "startAt", s."endAt" AS "endAt", s."maxParticipants" AS "maxParticipants",
            s."instructorNames" AS "instructorNames",
            ${count(HOLDS_PLACE)} AS "booked",
            ${count(`b."status" = 'BOOKED' AND b."bookingStatus" = 'WAITING_LIST'`)} AS "waitingList",
            ${count(`b."status" = 'CANCELLED'`)} AS "cancellations",
            ${count(`${HOLDS_PLACE} AND b."participantStatus" = 'PARTICIPATING'`)} AS "attended",
            ${count(`${HOLDS_PLACE} AND b."participantStatus" = 'NOT_PARTICIPATING'`)} AS "noShows"
       FROM "${TABLES.class_slots}" s
       LEFT JOIN "${TABLES.class_bookings}" b ON b."tenantId" = s."tenantId" AND b."classSlotId" = s."slotId"${bookingStudios}
      WHERE ${slotConditions.join(' AND ')}
      GROUP BY s."id", s."tenantId", s."slotId", s."classId", s."studioId", s."status", s."startAt", s."endAt", s."maxParticipants", s."instructorNames"
      ORDER BY s."startAt", s."id"
      LIMIT ${limit}`,
    params.values,
  );
  if (rows.length > MAX_REPORT_SLOTS) {
    throw clientError(ErrorCode.BAD_USER_INPUT, `range: more than ${MAX_REPORT_SLOTS} class slots; narrow the range or the studios`);
  }
  return group(rows.map(slotRow), input);
}

/** Numbers on both databases (PostgreSQL returns BIGINT and COUNT as strings). */
function slotRow(row: Record<keyof SlotRow, unknown>): SlotRow {
  const number = (value: unknown) => Number(value);
  const nullable = (value: unknown) => (value == null ? null : Number(value));
  return {
    id: number(row.id),
    tenantId: number(row.tenantId),
    slotId: number(row.slotId),
    classId: number(row.classId),
    studioId: number(row.studioId),
    status: String(row.status),
    startAt: number(row.startAt),
    endAt: nullable(row.endAt),
    maxParticipants: nullable(row.maxParticipants),
    instructorNames: row.instructorNames == null ? null : String(row.instructorNames),
    booked: number(row.booked),
    waitingList: number(row.waitingList),
    cancellations: number(row.cancellations),
    attended: number(row.attended),
    noShows: number(row.noShows),
  };
}

const empty = (): Counts => ({
  slots: 0,
  cancelledSlots: 0,
  booked: 0,
  waitingList: 0,
  cancellations: 0,
  attended: 0,
  noShows: 0,
  capacity: null,
  bookedLimited: 0,
});

/** A cancelled slot counts as such and nothing else: its bookings did not take a place. */
function add(counts: Counts, slot: SlotRow): void {
  if (slot.status === 'CANCELLED') {
    counts.cancelledSlots += 1;
    return;
  }
  counts.slots += 1;
  counts.booked += slot.booked;
  counts.waitingList += slot.waitingList;
  counts.cancellations += slot.cancellations;
  counts.attended += slot.attended;
  counts.noShows += slot.noShows;
  if (slot.maxParticipants !== null) {
    counts.capacity = (counts.capacity ?? 0) + slot.maxParticipants;
    counts.bookedLimited += slot.booked;
  }
}

const instructorsOf = (slot: SlotRow): string[] => {
  if (slot.instructorNames === null) return [];
  const parsed: unknown = JSON.parse(slot.instructorNames);
  return Array.isArray(parsed) ? parsed.filter((name): name is string => typeof name === 'string') : [];
};

/** A row's own fields besides the counts, as the dimensions set them. */
type RowFields = Omit<ClassReportRow, keyof Counts | 'fillRate' | 'label'>;

/** One slot's group of one dimension: its key, label, the row fields it sets, and where it sorts (smaller first, null last). */
interface Part {
  readonly key: string;
  readonly label: string;
  readonly fields: Partial<RowFields>;
  readonly order: readonly (number | string | null)[];
}

interface Group {
  readonly label: string;
  readonly fields: RowFields;
  readonly order: readonly (number | string | null)[];
  readonly counts: Counts;
}

const NONE: RowFields = {
  start: null,
  end: null,
  slotId: null,
  classId: null,
  studioId: null,
  instructor: null,
  hourOfDay: null,
  dayOfWeek: null,
};
const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

function compare(a: readonly (number | string | null)[], b: readonly (number | string | null)[]): number {
  for (let i = 0; i < a.length; i += 1) {
    const x = a[i] ?? null;
    const y = b[i] ?? null;
    if (x === y) continue;
    if (x === null) return 1;
    if (y === null) return -1;
    return x < y ? -1 : 1;
  }
  return 0;
}

/**
 * The slots grouped by the combination of `input.groupBy`'s dimensions, each slot by its start: one
 * row per combination that has slots (a slot with two instructors counts in both of theirs), in the
 * order of the dimensions, each in its own order (slots by start, classes by id, instructors by name with
 * the row without one last, periods and hours in time order, studios by id). Periods, hours and weekdays
 * are the statistics' (calendarPlan's labels and bounds, dateDimensions' weekday, cyclicLabel's names).
 * @throws TOO_MANY_BUCKETS past the statistics' cap on combinations (stats-query.ts MAX_GROUPS).
 */
function group(slots: readonly SlotRow[], input: ClassReportInput): ClassReportRow[] {
  const periods = new Map<string, CalendarBucket>();
  /** The local day, week or month of an instant, from calendarPlan (so labels and bounds match the statistics'), kept per local day. */
  const period = (instant: number, unit: 'DAY' | 'WEEK' | 'MONTH'): CalendarBucket => {
    const wall = input.clock.wall(instant);
    const key = `${unit}:${wall - (wall % DAY_MS)}`;
    let bucket = periods.get(key);
    if (!bucket) periods.set(key, (bucket = calendarPlan(input.clock, unit, instant, instant + 1, 1).buckets[0]!));
    return bucket;
  };
  const partsOf = (slot: SlotRow, dimension: ClassReportGrouping): Part[] => {
    switch (dimension) {
      case ClassReportGrouping.SLOT:
        return [
          {
            key: String(slot.id),
            label: String(slot.slotId),
            order: [slot.startAt, slot.id],
            fields: {
              slotId: String(slot.slotId),
              classId: String(slot.classId),
              studioId: slot.studioId,
              instructor: instructorsOf(slot).join(', ') || null,
            },
          },
        ];
      case ClassReportGrouping.CLASS:
        return [
          {
            key: `${slot.tenantId}:${slot.classId}`,
            label: String(slot.classId),
            order: [slot.classId, slot.studioId],
            fields: { classId: String(slot.classId), studioId: slot.studioId },
          },
        ];
      case ClassReportGrouping.INSTRUCTOR: {
        const names = [...new Set(instructorsOf(slot))];
        if (names.length === 0) return [{ key: '', label: 'unknown', order: [null], fields: { instructor: null } }];
        return names.map((name) => ({ key: `:${name}`, label: name, order: [name], fields: { instructor: name } }));
      }
      case ClassReportGrouping.DAY:
      case ClassReportGrouping.WEEK:
      case ClassReportGrouping.MONTH: {
        const bucket = period(slot.startAt, dimension);
        return [
          {
            key: bucket.label,
            label: bucket.label,
            order: [bucket.start],
            fields: { start: new Date(bucket.start), end: new Date(bucket.end) },
          },
        ];
      }
      case ClassReportGrouping.HOUR_OF_DAY: {
        const hour = Math.floor((input.clock.wall(slot.startAt) % DAY_MS) / HOUR_MS);
        return [{ key: String(hour), label: cyclicLabel('HOUR_OF_DAY', hour), order: [hour], fields: { hourOfDay: hour } }];
      }
      case ClassReportGrouping.DAY_OF_WEEK: {
        const day = dateDimensions(localDate(input.clock, slot.startAt)).DAY_OF_WEEK;
        return [{ key: String(day), label: cyclicLabel('DAY_OF_WEEK', day), order: [day], fields: { dayOfWeek: day } }];
      }
      case ClassReportGrouping.STUDIO:
        return [{ key: String(slot.studioId), label: String(slot.studioId), order: [slot.studioId], fields: { studioId: slot.studioId } }];
      default:
        return unreachable(dimension);
    }
  };

  const groups = new Map<string, Group>();
  for (const slot of slots) {
    // Every combination of the slot's parts (more than one only through a second instructor).
    let combinations: Part[][] = [[]];
    for (const dimension of input.groupBy) {
      const parts = partsOf(slot, dimension);
      combinations = combinations.flatMap((picked) => parts.map((part) => [...picked, part]));
    }
    for (const picked of combinations) {
      const key = picked.map((part) => part.key).join('|');
      let found = groups.get(key);
      if (!found) {
        // The slot's own start and end win over a period's.
        const slotPart = picked.find((_, d) => input.groupBy[d] === ClassReportGrouping.SLOT);
        const fields = Object.assign(
          { ...NONE },
          ...picked.map((part) => part.fields),
          slotPart && {
            start: new Date(slot.startAt),
            end: slot.endAt === null ? null : new Date(slot.endAt),
          },
        ) as RowFields;
        found = {
          label: picked.length === 0 ? 'total' : picked.map((part) => part.label).join(' / '),
          fields,
          order: picked.flatMap((part) => part.order),
          counts: empty(),
        };
        groups.set(key, found);
        if (groups.size > MAX_GROUPS)
          throw clientError(ErrorCode.TOO_MANY_BUCKETS, new TooManyBucketsError(MAX_GROUPS, groups.size).message);
      }
      add(found.counts, slot);
    }
  }
  return [...groups.values()]
    .sort((a, b) => compare(a.order, b.order))
    .map(({ label, fields, counts }) => {
      const { bookedLimited, ...shown } = counts;
      return {
        label,
        ...fields,
        ...shown,
        fillRate: counts.capacity ? Math.round((bookedLimited / counts.capacity) * 10_000) / 10_000 : null,
      };
    });
}
