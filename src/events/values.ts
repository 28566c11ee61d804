/**
 * Reading untrusted webhook values: the rules every event's content and the delivery envelope share.
 * The ground floor: imports nothing else from `src/`.
 */

/** Something wrong with an input value, naming its JSON path. */
export interface Problem {
  /** JSON path of the offending field, e.g. `payload[1].timestamp`. */
  readonly field: string;
  readonly message: string;
}

/**
 * Earliest time accepted in an event: 2000-01-01T00:00:00Z. History is legitimate (reconciliation
 * and late re-sends carry old times), so the bound is fixed rather than a window around now.
 */
export const EARLIEST_TIMESTAMP = Date.UTC(2000, 0, 1);
/** How far ahead of this server's clock a time in an event may be (clock skew, not scheduling), ms. */
export const MAX_TIMESTAMP_AHEAD_MS = 24 * 60 * 60 * 1000;

/** What a value is, for messages: `null`, `an array`, `"text"`, ... */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return value.length > 40 ? `a string of ${value.length} characters` : JSON.stringify(value);
  if (typeof value === 'number') return String(value);
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/** `describe`, or `nothing` for an absent value. */
export function describeGot(value: unknown): string {
  return value === undefined ? 'nothing' : describe(value);
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Upstream ids are int64. We accept a JSON integer or a string of digits, within JavaScript's safe
 * integer range (2^53 - 1); beyond it a JSON number has already lost precision, so it is refused
 * rather than silently stored wrong.
 */
export function parseId(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value >= 0 ? value : undefined;
  if (typeof value === 'string' && /^\d{1,16}$/.test(value)) {
    const id = Number(value);
    return Number.isSafeInteger(id) ? id : undefined;
  }
  return undefined;
}

/**
 * An ISO 8601 date-time with its offset (`Z`, `+01:00`, `+0100`), optionally followed by the zone id
 * the upstream appends (`[Europe/Berlin]`); seconds and fractions optional. A time without an offset
 * is refused: which zone it meant cannot be known.
 */
const ISO_DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:?\d{2})(?:\[[A-Za-z0-9_+\-/]{1,64}\])?$/;

/** `text` as epoch ms, or undefined when it is not an ISO date-time with an offset (or no such day exists). */
export function parseIsoDateTime(text: string): number | undefined {
  const match = ISO_DATE_TIME.exec(text);
  if (!match) return undefined;
  const [, year, month, day, hour, minute, second = '00', fraction = '', offset] = match;
  const date = Date.UTC(Number(year), Number(month) - 1, Number(day));
  if (new Date(date).getUTCDate() !== Number(day) || Number(hour) > 23 || Number(minute) > 59 || Number(second) > 59) return undefined;
  const ms = Date.parse(`${year}-${month}-${day}T${hour}:${minute}:${second}.${fraction.padEnd(3, '0').slice(0, 3)}${offset}`);
  return Number.isFinite(ms) ? ms : undefined;
}
