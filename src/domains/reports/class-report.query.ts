import type { DataSource } from 'typeorm';
import { SqlReader } from '../../db/sql-reader.js';
import { ErrorCode, clientError } from '../../api/errors.js';
import { unreachable } from '../../events/event-catalog.js';
import { calendarPlan, type CalendarBucket, type WallClock } from '../stats/time-buckets.js';
import { ClassReportGrouping, type ClassReportRow } from './class-report.types.js';
import { MAX_REPORT_ROWS, studiosSql } from './report-input.js';
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
  readonly groupBy: ClassReportGrouping;
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
  const slots = rows.map(slotRow);
  const grouped = group(slots, input);
  if (grouped.length > MAX_REPORT_ROWS) {
    throw clientError(
      ErrorCode.BAD_USER_INPUT,
      `range: more than ${MAX_REPORT_ROWS} rows grouped by ${input.groupBy}; narrow the range or group by a longer period`,
    );
  }
  return grouped;
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

interface Group {
  readonly row: Omit<ClassReportRow, keyof Counts | 'fillRate'>;
  readonly counts: Counts;
}

function group(slots: readonly SlotRow[], input: ClassReportInput): ClassReportRow[] {
  const groups = new Map<string, Group>();
  const into = (key: string, row: () => Group['row'], slot: SlotRow) => {
    let found = groups.get(key);
    if (!found) groups.set(key, (found = { row: row(), counts: empty() }));
    add(found.counts, slot);
  };
  const none = { start: null, end: null, slotId: null, classId: null, studioId: null, instructor: null };
  const periods = new Map<number, CalendarBucket>();
  /** The local day or week of an instant, from calendarPlan (so labels and bounds match the statistics'), kept per local day. */
  const period = (instant: number, unit: 'DAY' | 'WEEK'): CalendarBucket => {
    const wall = input.clock.wall(instant);
    const day = wall - (wall % 86_400_000);
    let bucket = periods.get(day);
    if (!bucket) periods.set(day, (bucket = calendarPlan(input.clock, unit, instant, instant + 1, 1).buckets[0]!));
    return bucket;
  };

  for (const slot of slots) {
    switch (input.groupBy) {
      case ClassReportGrouping.SLOT:
        into(
          String(slot.id),
          () => ({
            ...none,
            label: String(slot.slotId),
            start: new Date(slot.startAt),
            end: slot.endAt === null ? null : new Date(slot.endAt),
            slotId: String(slot.slotId),
            classId: String(slot.classId),
            studioId: slot.studioId,
            instructor: instructorsOf(slot).join(', ') || null,
          }),
          slot,
        );
        break;
      case ClassReportGrouping.CLASS:
        into(
          `${slot.tenantId}:${slot.classId}`,
          () => ({ ...none, label: String(slot.classId), classId: String(slot.classId), studioId: slot.studioId }),
          slot,
        );
        break;
      case ClassReportGrouping.INSTRUCTOR: {
        const names = instructorsOf(slot);
        if (names.length === 0) into('', () => ({ ...none, label: 'unknown' }), slot);
        for (const name of new Set(names)) into(`:${name}`, () => ({ ...none, label: name, instructor: name }), slot);
        break;
      }
      case ClassReportGrouping.DAY:
      case ClassReportGrouping.WEEK: {
        const bucket = period(slot.startAt, input.groupBy);
        into(bucket.label, () => ({ ...none, label: bucket.label, start: new Date(bucket.start), end: new Date(bucket.end) }), slot);
        break;
      }
      default:
        unreachable(input.groupBy);
    }
  }
  const rows = [...groups.values()].map(({ row, counts }) => {
    const { bookedLimited, ...shown } = counts;
    return { ...row, ...shown, fillRate: counts.capacity ? Math.round((bookedLimited / counts.capacity) * 10_000) / 10_000 : null };
  });
  // Slots and periods come in time order already; classes by id, instructors by name (the row without one last).
  if (input.groupBy === ClassReportGrouping.CLASS)
    rows.sort((a, b) => Number(a.classId) - Number(b.classId) || (a.studioId ?? 0) - (b.studioId ?? 0));
  if (input.groupBy === ClassReportGrouping.INSTRUCTOR)
    rows.sort((a, b) =>
      a.instructor === null ? 1 : b.instructor === null ? -1 : a.instructor < b.instructor ? -1 : a.instructor > b.instructor ? 1 : 0,
    );
  return rows;
}
