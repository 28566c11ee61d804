// Calendar arithmetic in an IANA time zone with nothing but Intl: local dates, their midnights as
// instants (DST-safe), and formatting. The offset arithmetic is the one of
// src/upstream/zoned-date-time.ts, which the page cannot import (TypeScript; the page has no build step).

const partsCache = new Map();
function formatter(zone) {
  let f = partsCache.get(zone);
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
    partsCache.set(zone, f);
  }
  return f;
}

/** The wall clock in `zone` at `instant` (ms): { y, m, d, h, min, s }. */
export function wallClock(instant, zone) {
  const p = Object.fromEntries(
    formatter(zone)
      .formatToParts(new Date(instant))
      .map((x) => [x.type, Number(x.value)]),
  );
  return { y: p.year, m: p.month, d: p.day, h: p.hour % 24, min: p.minute, s: p.second };
}

function offset(instant, zone) {
  const w = wallClock(instant, zone);
  return Date.UTC(w.y, w.m - 1, w.d, w.h, w.min, w.s) - Math.floor(instant / 1000) * 1000;
}

/** The first instant (ms) of the local day `y-m-d` in `zone`; `d` may overflow (d + 1, d - 7). */
export function localMidnight(y, m, d, zone) {
  const guess = Date.UTC(y, m - 1, d);
  let t = guess - offset(guess, zone);
  const again = guess - offset(t, zone);
  if (again !== t) t = again;
  return t;
}

/** Today in `zone`: its start and end (ms) and the local date. */
export function today(zone, now = Date.now()) {
  const w = wallClock(now, zone);
  return { y: w.y, m: w.m, d: w.d, start: localMidnight(w.y, w.m, w.d, zone), end: localMidnight(w.y, w.m, w.d + 1, zone) };
}

/** The local day `days` after (or before) today: { start, end }. */
export function dayOffset(zone, days, now = Date.now()) {
  const w = wallClock(now, zone);
  return { start: localMidnight(w.y, w.m, w.d + days, zone), end: localMidnight(w.y, w.m, w.d + days + 1, zone) };
}

/** This ISO week (Monday 00:00 to next Monday) in `zone`. */
export function thisWeek(zone, now = Date.now()) {
  const w = wallClock(now, zone);
  const weekday = (new Date(Date.UTC(w.y, w.m - 1, w.d)).getUTCDay() + 6) % 7; // Monday 0
  return { start: localMidnight(w.y, w.m, w.d - weekday, zone), end: localMidnight(w.y, w.m, w.d - weekday + 7, zone) };
}

/** "14:05" in `zone`. */
export function hhmm(instant, zone) {
  return new Intl.DateTimeFormat(undefined, { timeZone: zone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(
    new Date(instant),
  );
}

/** The zones the browser knows, the given ones first. */
export function zones(...first) {
  const all = typeof Intl.supportedValuesOf === 'function' ? Intl.supportedValuesOf('timeZone') : [];
  return [...new Set([...first.filter(Boolean), 'UTC', ...all])];
}
