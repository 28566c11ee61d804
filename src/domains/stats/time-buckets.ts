/**
 * Calendar buckets (local hours, days, ISO weeks) in an IANA time zone, computed in JS from `Intl`
 * because SQLite knows no time zones. The database then groups rows by an integer key — the local
 * time of the row's instant divided by the bucket length — with the zone's UTC offsets for the range
 * given to it as a CASE over the offset changes, so the same SQL runs on SQLite and PostgreSQL.
 */

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;
const WEEK_MS = 7 * DAY_MS;
/** 1970-01-01 was a Thursday: Monday-based weeks start 4 days after a multiple of 7 days. */
const MONDAY_SHIFT_MS = 4 * DAY_MS;
/**
 * Added before the integer division so that its operand is positive for any time after 3800 BC:
 * SQL integer division truncates toward zero, and truncation equals floor only for positive numbers.
 */
const KEY_SHIFT_MS = 300_000 * WEEK_MS;

/** `11/24/2026, 13:05:09`: en-US with numeric fields and a 24-hour clock. */
const EN_US = /^(\d{1,2})\/(\d{1,2})\/(\d{4}), (\d{2}):(\d{2}):(\d{2})$/;

export type CalendarUnit = 'HOUR' | 'DAY' | 'WEEK' | 'MONTH';

/** The most calendar buckets one statistics query may ask for (2000 days is five and a half years). */
export const MAX_BUCKETS = 2000;

/** A mistake in what the caller asked for; the message names the argument and is safe to show. */
export class TimeBucketError extends Error {
  override name = 'TimeBucketError';
}

/** More calendar buckets than allowed (a mistake of the caller's, with its own error code). */
export class BucketCapError extends TimeBucketError {
  override name = 'BucketCapError';
}

/** One calendar bucket. When the clocks change, a local day lasts 23 or 25 hours and its week 167 or 169. */
export interface CalendarBucket {
  /** First instant of the bucket, epoch ms. */
  readonly start: number;
  /** First instant after the bucket, epoch ms. */
  readonly end: number;
  /** ISO local date `2026-11-24`, local date-time `2026-11-24T13:00`, ISO week `2026-W48`, or month `2026-11`. */
  readonly label: string;
  /** The bucket's grouping key, as the SQL of {@link CalendarPlan.keySql} computes it for rows. */
  readonly key: string;
}

/** Everything needed to bucket a time column in SQL, for one range, unit and zone. */
export interface CalendarPlan {
  readonly unit: CalendarUnit;
  readonly buckets: readonly CalendarBucket[];
  /**
   * SQL expressions that, for a time column (epoch ms), give the key of its bucket; group by all of
   * them. `${column}` must be a trusted SQL expression: only integers we computed are added.
   */
  keySql(column: string): readonly string[];
  /** The zone's offsets over the buckets (see {@link ZoneOffsets}). */
  readonly offsets: ZoneOffsets;
}

/**
 * A zone's UTC offsets over a span: `offsets[i]` holds from `changes[i - 1]` (inclusive) to
 * `changes[i]` (exclusive), the first from the span's start, the last to its end.
 */
export interface ZoneOffsets {
  readonly changes: readonly number[];
  readonly offsets: readonly number[];
}

/** The offsets of `clock`'s zone over [from, to). */
export function zoneOffsets(clock: WallClock, from: number, to: number): ZoneOffsets {
  const changes: number[] = [];
  const offsets = [clock.offset(from)];
  // A zone changes its offset at most a few times a year, never twice within a day.
  for (let cursor = from; cursor < to;) {
    const next = Math.min(to, cursor + DAY_MS);
    while (clock.offset(next) !== offsets[offsets.length - 1]) {
      cursor = clock.change(cursor, next);
      changes.push(cursor);
      offsets.push(clock.offset(cursor));
    }
    cursor = next;
  }
  return { changes, offsets };
}

/** Whether every offset and every change of `zone` is a whole number of `quantumMs` (then rollup buckets of that length never straddle two local periods). */
export function alignedTo(zone: ZoneOffsets, quantumMs: number): boolean {
  return zone.changes.every((c) => mod(c, quantumMs) === 0) && zone.offsets.every((o) => mod(o, quantumMs) === 0);
}

/** `CASE WHEN column < change THEN value ... END` over the zone's segments (trusted SQL; integers only). */
function segmentSql(zone: ZoneOffsets, column: string, values: readonly number[]): string {
  return zone.changes.length === 0
    ? sqlInt(values[0]!)
    : `CASE ${zone.changes.map((c, i) => `WHEN ${column} < ${sqlInt(c)} THEN ${sqlInt(values[i]!)}`).join(' ')} ELSE ${sqlInt(values[zone.changes.length]!)} END`;
}

/** A periodic dimension: the local hour of the day (0 to 23) or the ISO day of the week (1 = Monday to 7 = Sunday). */
export type CyclicUnit = 'HOUR_OF_DAY' | 'DAY_OF_WEEK';

/** The values of a cyclic unit, in order. */
export function cyclicValues(unit: CyclicUnit): readonly number[] {
  return unit === 'HOUR_OF_DAY' ? Array.from({ length: 24 }, (_, i) => i) : [1, 2, 3, 4, 5, 6, 7];
}

/** SQL giving a time column's (epoch ms) local hour of day or ISO weekday under `zone`'s offsets. */
export function cyclicSql(zone: ZoneOffsets, unit: CyclicUnit, column: string): string {
  // The shift is a whole number of weeks: it keeps the operand positive without moving hours or weekdays.
  const local = `(${column} + ${segmentSql(
    zone,
    column,
    zone.offsets.map((o) => o + KEY_SHIFT_MS),
  )})`;
  // Day 0 of the epoch (1970-01-01) was a Thursday, ISO weekday 4.
  return unit === 'HOUR_OF_DAY'
    ? `((${local} % ${sqlInt(DAY_MS)}) / ${sqlInt(HOUR_MS)})`
    : `(((${local} / ${sqlInt(DAY_MS)}) + 3) % 7 + 1)`;
}

/**
 * The wall clock of one IANA time zone. A wall time is encoded as the epoch ms at which a UTC clock
 * shows the same date and time, so that wall-time arithmetic is plain integer arithmetic.
 */
export class WallClock {
  private readonly format: Intl.DateTimeFormat;
  /** The zone's canonical name, e.g. `Europe/Berlin` for `europe/berlin`. */
  readonly timeZone: string;

  /** @throws TimeBucketError when `timeZone` is not a zone this runtime knows. */
  constructor(timeZone: string) {
    try {
      this.format = new Intl.DateTimeFormat('en-US', {
        timeZone,
        hourCycle: 'h23',
        year: 'numeric',
        month: 'numeric',
        day: 'numeric',
        hour: 'numeric',
        minute: 'numeric',
        second: 'numeric',
      });
    } catch {
      throw new TimeBucketError(`timeZone: expected an IANA time zone such as "Europe/Berlin" or "UTC", got ${JSON.stringify(timeZone)}`);
    }
    this.timeZone = this.format.resolvedOptions().timeZone;
  }

  /** Instants already converted: walking buckets asks for each boundary several times. */
  private readonly walls = new Map<number, number>();

  /** The wall time at `instant`. */
  wall(instant: number): number {
    let wall = this.walls.get(instant);
    if (wall === undefined) {
      wall = this.convert(instant);
      // Clocks are shared between requests (stats.resolver.ts): bounded.
      if (this.walls.size >= 100_000) this.walls.clear();
      this.walls.set(instant, wall);
    }
    return wall;
  }

  private convert(instant: number): number {
    // `format` and a pattern are three times faster than `formatToParts`; the parts are the fallback
    // for what the pattern does not cover (years before 1000, eras).
    const fast = EN_US.exec(this.format.format(instant));
    const [year, month, day, hour, minute, second] =
      fast && Number(fast[3]) >= 1000
        ? [Number(fast[3]), Number(fast[1]), Number(fast[2]), Number(fast[4]), Number(fast[5]), Number(fast[6])]
        : this.parts(instant);
    const date = new Date(0);
    // setUTCFullYear, not Date.UTC: Date.UTC maps years 0-99 to 1900-1999.
    date.setUTCFullYear(year, month - 1, day);
    date.setUTCHours(hour, minute, second, mod(instant, 1000));
    return date.getTime();
  }

  private parts(instant: number): [number, number, number, number, number, number] {
    const field: Record<string, number> = {};
    for (const part of this.format.formatToParts(instant)) field[part.type] = Number(part.value);
    return [field['year'] ?? 1970, field['month'] ?? 1, field['day'] ?? 1, field['hour'] ?? 0, field['minute'] ?? 0, field['second'] ?? 0];
  }

  /** The zone's UTC offset at `instant`, in ms (positive east of Greenwich). */
  offset(instant: number): number {
    return this.wall(instant) - instant;
  }

  /**
   * The earliest instant at which the clock shows `wall` (the first of the two, when the clock is
   * turned back over it); when the clock skips `wall` (turned forward over it), the instant of the jump.
   */
  instant(wall: number): number {
    // The true instant lies within 14 hours of `wall`: the offsets a day either side bracket it.
    const offsets = [...new Set([this.offset(wall - DAY_MS), this.offset(wall), this.offset(wall + DAY_MS)])];
    const matches = offsets.map((o) => wall - o).filter((t) => this.wall(t) === wall);
    if (matches.length > 0) return Math.min(...matches);
    // A gap: before the jump the clock shows less than `wall`, from the jump on at least `wall`.
    let lo = wall - Math.max(...offsets);
    let hi = wall - Math.min(...offsets);
    while (hi - lo > 1) {
      const mid = Math.floor((lo + hi) / 2);
      if (this.wall(mid) >= wall) hi = mid;
      else lo = mid;
    }
    return hi;
  }

  /** The first instant in (a, b] whose offset differs from `a`'s, given that `b`'s does. */
  change(a: number, b: number): number {
    const before = this.offset(a);
    let lo = a;
    let hi = b;
    while (hi - lo > 1) {
      const mid = Math.floor((lo + hi) / 2);
      if (this.offset(mid) === before) lo = mid;
      else hi = mid;
    }
    return hi;
  }
}

/**
 * The buckets of `unit` that overlap [from, to) in the clock's zone, in order. The first and last
 * may extend beyond the range (a day starts at local midnight even when `from` is at noon).
 * @throws TimeBucketError when there would be more than `max` buckets.
 */
export function calendarPlan(clock: WallClock, unit: CalendarUnit, from: number, to: number, max: number): CalendarPlan {
  // A month is at least 28 days: its nominal size for the early refusal below.
  const size = unit === 'HOUR' ? HOUR_MS : unit === 'DAY' ? DAY_MS : unit === 'WEEK' ? WEEK_MS : 28 * DAY_MS;
  const tooMany = () =>
    new BucketCapError(`range: more than ${max} ${unit.toLowerCase()} buckets; narrow the range or group by a longer period`);
  // Local periods are at least half their nominal length, so this refuses hopeless ranges before walking them.
  if ((to - from) / size > 2 * max + 2) throw tooMany();

  const starts: { start: number; label: string }[] = [];
  let end: number;
  if (unit === 'HOUR') {
    // Walk instants, not wall times: the hour repeated when the clock is turned back is two buckets.
    let start = hourStart(clock, from);
    for (;;) {
      const wall = clock.wall(start);
      const next = start + HOUR_MS - mod(wall, HOUR_MS);
      const stop = clock.offset(next) === clock.offset(start) ? next : clock.change(start, next);
      starts.push({ start, label: new Date(wall).toISOString().slice(0, 16) });
      if (starts.length > max) throw tooMany();
      start = stop;
      if (start >= to) break;
    }
    end = start;
  } else {
    let wall = clock.wall(from);
    wall -= mod(wall, DAY_MS);
    if (unit === 'WEEK') wall -= mod(wall - MONDAY_SHIFT_MS, WEEK_MS);
    if (unit === 'MONTH') wall = nextMonth(wall, 0);
    let start = clock.instant(wall);
    for (;;) {
      const following = unit === 'MONTH' ? nextMonth(wall, 1) : wall + size;
      const stop = clock.instant(following);
      // A day the zone skipped entirely (Pacific/Apia, 2011-12-30) has no instant: no bucket.
      if (stop > start)
        starts.push({
          start,
          label:
            unit === 'DAY'
              ? new Date(wall).toISOString().slice(0, 10)
              : unit === 'WEEK'
                ? isoWeek(wall)
                : new Date(wall).toISOString().slice(0, 7),
        });
      if (starts.length > max) throw tooMany();
      wall = following;
      start = stop;
      if (start >= to) break;
    }
    end = start;
  }

  // The offset changes within the buckets: rows are bucketed by their local time under these offsets.
  const zone = zoneOffsets(clock, starts[0]!.start, end);
  const { changes, offsets } = zone;
  const shift = KEY_SHIFT_MS - (unit === 'WEEK' ? MONDAY_SHIFT_MS : 0);
  const buckets = starts.map(({ start, label }, i) => {
    const segment = changes.filter((c) => c <= start).length;
    const local = Math.floor((start + offsets[segment]! + shift) / size);
    // An hour is also split by an offset change (the repeated hour); a day or week is not.
    // A month is its index among the buckets (months have no fixed length to divide by).
    return {
      start,
      end: starts[i + 1]?.start ?? end,
      label,
      key: unit === 'HOUR' ? `${local}:${segment}` : unit === 'MONTH' ? `${i}` : `${local}`,
    };
  });

  return {
    unit,
    buckets,
    offsets: zone,
    keySql(column) {
      if (unit === 'MONTH') {
        return [
          buckets.length === 1
            ? '0'
            : `CASE ${buckets
                .slice(1)
                .map((b, i) => `WHEN ${column} < ${sqlInt(b.start)} THEN ${i}`)
                .join(' ')} ELSE ${buckets.length - 1} END`,
        ];
      }
      const cases = (values: readonly number[]) => segmentSql(zone, column, values);
      // Integer division of a positive BIGINT: floor, on SQLite and PostgreSQL alike.
      const local = `(${column} + ${cases(offsets.map((o) => o + shift))}) / ${sqlInt(size)}`;
      return unit === 'HOUR' ? [local, cases(offsets.map((_, i) => i))] : [local];
    },
  };
}

/**
 * A calendar date (ISO `2026-11-24`, a local day with no time of day, e.g. a hydrated cancellation
 * date) as the bucket keys of the dimensions a date has: the label of its DAY, WEEK or MONTH bucket
 * (as {@link calendarPlan} labels them) and its ISO weekday. A date has no hour: HOUR and
 * HOUR_OF_DAY are not among them.
 * @throws Error when `date` is not an ISO calendar date (a bug: dates come from our own columns).
 */
export function dateDimensions(date: string): {
  readonly DAY: string;
  readonly WEEK: string;
  readonly MONTH: string;
  readonly DAY_OF_WEEK: number;
} {
  const wall = /^\d{4}-\d{2}-\d{2}$/.test(date) ? Date.parse(`${date}T00:00:00Z`) : NaN;
  if (!Number.isFinite(wall)) throw new Error(`not an ISO calendar date: ${date}`);
  // Day 0 of the epoch (1970-01-01) was a Thursday, ISO weekday 4 (as in cyclicSql).
  const dayOfWeek = mod(Math.floor(wall / DAY_MS) + 3, 7) + 1;
  return { DAY: date, WEEK: isoWeek(wall - (dayOfWeek - 1) * DAY_MS), MONTH: date.slice(0, 7), DAY_OF_WEEK: dayOfWeek };
}

/** The first instant of the local calendar date `date` (ISO `2026-11-24`) on `clock`: local midnight, or the jump when the clocks skip it. */
export function dateStart(clock: WallClock, date: string): number {
  return clock.instant(Date.parse(`${date}T00:00:00Z`));
}

/** The local calendar date (ISO `2026-11-24`) at `instant` on `clock`. */
export function localDate(clock: WallClock, instant: number): string {
  return new Date(clock.wall(instant)).toISOString().slice(0, 10);
}

/** The wall time of the first of the month `add` months after the month of `wall`. */
function nextMonth(wall: number, add: number): number {
  const date = new Date(wall);
  const next = new Date(0);
  next.setUTCFullYear(date.getUTCFullYear(), date.getUTCMonth() + add, 1);
  return next.getTime();
}

/** The start of the local hour containing `instant` (or of the offset change within it, if later). */
function hourStart(clock: WallClock, instant: number): number {
  const candidate = instant - mod(clock.wall(instant), HOUR_MS);
  return clock.offset(candidate) === clock.offset(instant) ? candidate : clock.change(candidate, instant);
}

/** `2026-W48`: the ISO 8601 week of the Monday `monday` (a wall time), numbered in its ISO week-year. */
function isoWeek(monday: number): string {
  const thursday = new Date(monday + 3 * DAY_MS);
  const year = thursday.getUTCFullYear();
  const january1 = new Date(0);
  january1.setUTCFullYear(year, 0, 1);
  const week = 1 + Math.floor((thursday.getTime() - january1.getTime()) / WEEK_MS);
  return `${String(year).padStart(4, '0')}-W${String(week).padStart(2, '0')}`;
}

function mod(a: number, b: number): number {
  return ((a % b) + b) % b;
}

/** An integer as a SQL literal; anything else is a bug, never user input reaching the SQL. */
export function sqlInt(value: number): string {
  if (!Number.isSafeInteger(value)) throw new Error(`not a safe integer for SQL: ${value}`);
  return String(value);
}
