/**
 * The upstream's date-times: ISO 8601 with an optional offset and an optional bracketed IANA zone,
 * as Java's `ZonedDateTime.toString()` writes them (`2022-06-15T23:59:59.999+02:00[Europe/Berlin]`).
 * `Date.parse` rejects the bracket, so every date-time of an Open API answer goes through here.
 */

const PATTERN =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:?\d{2}(?::?\d{2})?)?(?:\[([A-Za-z0-9_+\-/]{1,64})\])?$/;

/**
 * Parses an upstream date-time into the instant it names, or returns `undefined` when it is not one.
 *
 * - With an offset (`Z`, `+02:00`, `+0200`), the offset decides the instant; a bracketed zone after
 *   it is only a label (it must still be a zone this runtime knows).
 * - Without an offset but with a zone (`2022-06-15T23:59:59[Europe/Berlin]`), the local time is
 *   resolved in that zone as java.time does (see {@link zoneOffsetAt} for DST gaps and overlaps).
 * - With neither, the time is taken as UTC: the platform stores UTC, and a local time with no zone
 *   at all has no better reading.
 *
 * Fractions beyond milliseconds are truncated (JavaScript dates have millisecond precision).
 */
export function parseZonedDateTime(raw: string): Date | undefined {
  const match = PATTERN.exec(raw);
  if (!match) return undefined;
  const [, y, mo, d, h, mi, s, fraction, offset, zone] = match;
  const year = Number(y),
    month = Number(mo),
    day = Number(d),
    hour = Number(h),
    minute = Number(mi),
    second = Number(s ?? '0');
  const ms = fraction === undefined ? 0 : Number(fraction.slice(0, 3).padEnd(3, '0'));
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month) || hour > 23 || minute > 59 || second > 59) return undefined;
  if (zone !== undefined && !isKnownZone(zone)) return undefined;

  const local = Date.UTC(year, month - 1, day, hour, minute, second, ms);
  if (offset !== undefined) {
    const offsetMs = parseOffset(offset);
    return offsetMs === undefined ? undefined : new Date(local - offsetMs);
  }
  if (zone !== undefined) return new Date(local - zoneOffsetAt(zone, local));
  return new Date(local);
}

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** `Z`, `+02:00`, `+0200`, `-05:30:15` -> milliseconds east of UTC. */
function parseOffset(offset: string): number | undefined {
  if (offset === 'Z') return 0;
  const digits = offset.slice(1).replace(/:/g, '');
  const hours = Number(digits.slice(0, 2));
  const minutes = Number(digits.slice(2, 4));
  const seconds = digits.length > 4 ? Number(digits.slice(4, 6)) : 0;
  if (hours > 18 || minutes > 59 || seconds > 59) return undefined;
  const ms = ((hours * 60 + minutes) * 60 + seconds) * 1000;
  return offset.startsWith('-') ? -ms : ms;
}

const knownZones = new Map<string, boolean>();
function isKnownZone(zone: string): boolean {
  let known = knownZones.get(zone);
  if (known === undefined) {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: zone });
      known = true;
    } catch {
      known = false;
    }
    if (knownZones.size < 1000) knownZones.set(zone, known);
  }
  return known;
}

/**
 * The zone's offset (ms east of UTC) for a wall-clock time given as if it were UTC, resolved as
 * java.time does: in an overlap (clocks go back) the earlier offset, in a gap (clocks go forward)
 * the offset before the gap, which moves the time forward by the gap's length.
 */
function zoneOffsetAt(zone: string, localAsUtc: number): number {
  const DAY = 86_400_000;
  const before = offsetAtInstant(zone, localAsUtc - DAY);
  const after = offsetAtInstant(zone, localAsUtc + DAY);
  const valid = [...new Set([before, after])].filter((offset) => offsetAtInstant(zone, localAsUtc - offset) === offset);
  if (valid.length === 0) return before;
  return Math.max(...valid);
}

function offsetAtInstant(zone: string, instant: number): number {
  const parts = formatter(zone).formatToParts(new Date(instant));
  const get = (type: Intl.DateTimeFormatPartTypes) => Number(parts.find((p) => p.type === type)?.value ?? '0');
  const asUtc = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour') % 24, get('minute'), get('second'));
  return asUtc - Math.floor(instant / 1000) * 1000;
}

const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(zone, f);
  }
  return f;
}

/**
 * Formats an instant the way the upstream does: `2022-06-15T23:59:59.999+02:00[Europe/Berlin]`
 * (used by the stand-in upstream and by tests).
 */
export function formatZonedDateTime(date: Date, zone: string): string {
  const instant = date.getTime();
  const offset = offsetAtInstant(zone, instant);
  const local = new Date(instant + offset);
  const sign = offset < 0 ? '-' : '+';
  const abs = Math.abs(offset) / 60_000;
  const hh = String(Math.floor(abs / 60)).padStart(2, '0');
  const mm = String(abs % 60).padStart(2, '0');
  const offsetText = offset === 0 ? 'Z' : `${sign}${hh}:${mm}`;
  return `${local.toISOString().slice(0, 23)}${offsetText}[${zone}]`;
}
