import { createHash } from 'node:crypto';
import { REQUIRED_CONTENT, isKnownEventType, type AutomaticCheckout } from './event-types.js';

/** One element of a delivery's `payload`, validated. */
export interface DeliveryElement {
  readonly type: string;
  readonly known: boolean;
  /** `timestamp`: epoch ms, when it happened upstream. */
  readonly timestamp: number;
  /** `content` as received (null when absent, null or `{}`). */
  readonly content: Readonly<Record<string, unknown>> | null;
  /** `content` as JSON text, as it is stored (null with `content`); serialised once, by the validator. */
  readonly contentJson: string | null;
}

/** A webhook body that passed validation. */
export interface Delivery {
  /** Lower-cased `uuid`: the idempotency key. */
  readonly uuid: string;
  readonly entityId: number;
  readonly elements: readonly DeliveryElement[];
  /**
   * SHA-256 (hex) of `entityId` and the normalised payload ({@link deliveryDigest}): a re-delivery
   * of the uuid must carry the same digest, or it is refused as a conflict.
   */
  readonly digest: string;
}

export interface Problem {
  /** JSON path of the offending field, e.g. `payload[1].timestamp`. */
  readonly field: string;
  readonly message: string;
}

export type ValidationResult =
  | { readonly ok: true; readonly delivery: Delivery }
  | { readonly ok: false; readonly problems: readonly Problem[] };

/** The upstream says "currently a single element"; we take many, but not unboundedly many. */
export const MAX_PAYLOAD_ELEMENTS = 1000;
const MAX_TYPE_LENGTH = 100;
/**
 * Deepest nesting of an element's `content`: the object itself is depth 1. Real contents are one or
 * two levels; beyond this JSON.stringify, the projections and every GraphQL reader would pay for (or,
 * at some thousands of levels, overflow the stack on) a shape no operator sends.
 */
export const MAX_CONTENT_DEPTH = 32;
/** Longest `content` of one element, as stored JSON text, in characters (UTF-16 code units). */
export const MAX_CONTENT_CHARS = 64 * 1024;
/**
 * Earliest `timestamp` accepted: 2000-01-01T00:00:00Z. History is legitimate (reconciliation and
 * late re-sends carry old times), so the bound is fixed rather than a window around now.
 */
export const EARLIEST_TIMESTAMP = Date.UTC(2000, 0, 1);
/** How far ahead of this server's clock a `timestamp` may be (clock skew, not scheduling), ms. */
export const MAX_TIMESTAMP_AHEAD_MS = 24 * 60 * 60 * 1000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** What a value is, for messages: `null`, `array`, `string`, ... */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return value.length > 40 ? `a string of ${value.length} characters` : JSON.stringify(value);
  if (typeof value === 'number') return String(value);
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

function isObject(value: unknown): value is Record<string, unknown> {
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
 * Validates a parsed webhook body against the documented shape. Unknown properties are ignored;
 * every problem is reported, each naming its field.
 */
export function validateDelivery(body: unknown, now: number = Date.now()): ValidationResult {
  const problems: Problem[] = [];
  const problem = (field: string, message: string) => problems.push({ field, message });

  if (!isObject(body)) {
    return { ok: false, problems: [{ field: '(body)', message: `expected a JSON object, got ${describe(body)}` }] };
  }

  const uuid = body.uuid;
  if (typeof uuid !== 'string' || !UUID.test(uuid)) {
    problem('uuid', `expected a UUID string, got ${uuid === undefined ? 'nothing' : describe(uuid)}`);
  }
  const entityId = parseId(body.entityId);
  if (entityId === undefined) {
    problem(
      'entityId',
      `expected a non-negative integer id (at most ${Number.MAX_SAFE_INTEGER}), got ${body.entityId === undefined ? 'nothing' : describe(body.entityId)}`,
    );
  }

  const elements: DeliveryElement[] = [];
  const payload = body.payload;
  if (!Array.isArray(payload)) {
    problem('payload', `expected an array of events, got ${payload === undefined ? 'nothing' : describe(payload)}`);
  } else if (payload.length === 0) {
    problem('payload', 'expected at least one event, got an empty array');
  } else if (payload.length > MAX_PAYLOAD_ELEMENTS) {
    problem('payload', `expected at most ${MAX_PAYLOAD_ELEMENTS} events, got ${payload.length}`);
  } else {
    payload.forEach((item: unknown, index) => {
      const element = validateElement(item, `payload[${index}]`, problems, now);
      if (element) elements.push(element);
    });
  }

  if (problems.length > 0) return { ok: false, problems };
  return { ok: true, delivery: { uuid: (uuid as string).toLowerCase(), entityId: entityId!, elements, digest: deliveryDigest(entityId!, elements) } };
}

function validateElement(item: unknown, path: string, problems: Problem[], now: number): DeliveryElement | undefined {
  const problem = (field: string, message: string) => problems.push({ field, message });
  if (!isObject(item)) {
    problem(path, `expected an object, got ${describe(item)}`);
    return undefined;
  }
  const before = problems.length;
  const { type, timestamp, content } = item;
  if (typeof type !== 'string' || type.length === 0 || type.length > MAX_TYPE_LENGTH) {
    problem(`${path}.type`, `expected a non-empty string of at most ${MAX_TYPE_LENGTH} characters, got ${type === undefined ? 'nothing' : describe(type)}`);
  } else {
    const bad = unstorableString(type);
    if (bad) problem(`${path}.type`, `expected text both databases can store, got a string that ${bad}`);
  }
  if (typeof timestamp !== 'number' || !Number.isSafeInteger(timestamp) || timestamp < 0) {
    problem(`${path}.timestamp`, `expected milliseconds since the epoch (a non-negative integer), got ${timestamp === undefined ? 'nothing' : describe(timestamp)}`);
  } else if (timestamp < EARLIEST_TIMESTAMP || timestamp > now + MAX_TIMESTAMP_AHEAD_MS) {
    const when = timestamp <= 8.64e15 ? ` (${new Date(timestamp).toISOString()})` : '';
    problem(
      `${path}.timestamp`,
      `expected milliseconds since the epoch from ${new Date(EARLIEST_TIMESTAMP).toISOString()} to one day ahead of now (${new Date(now + MAX_TIMESTAMP_AHEAD_MS).toISOString()}), got ${timestamp}${when}`,
    );
  }
  let normalised: Record<string, unknown> | null = null;
  let contentJson: string | null = null;
  let contentRefused = false;
  if (content !== undefined && content !== null) {
    if (!isObject(content)) problem(`${path}.content`, `expected an object or null, got ${describe(content)}`);
    else if (Object.keys(content).length > 0) {
      const bad = checkContent(content, `${path}.content`);
      // One problem per content: its required field is not judged again.
      contentRefused = bad !== undefined;
      if (bad) problem(bad.field, bad.message);
      else {
        // Safe to serialise now: the depth is bounded.
        contentJson = JSON.stringify(content);
        if (contentJson.length > MAX_CONTENT_CHARS) {
          problem(`${path}.content`, `expected at most ${MAX_CONTENT_CHARS} characters of JSON, got ${contentJson.length}`);
        }
        normalised = content;
      }
    }
  }
  const known = typeof type === 'string' && isKnownEventType(type);
  if (known && !contentRefused) {
    const required = REQUIRED_CONTENT[type];
    if (required) {
      const value = normalised?.[required.field];
      const field = `${path}.content.${required.field}`;
      if (required.kind === 'id' && parseId(value) === undefined) {
        problem(field, `${type} needs a non-negative integer id here, got ${value === undefined ? 'nothing' : describe(value)}`);
      }
      if (required.kind === 'string' && !((typeof value === 'string' && value.length > 0 && value.length <= 200) || parseId(value) !== undefined)) {
        problem(field, `${type} needs a non-empty id (string or integer) here, got ${value === undefined ? 'nothing' : describe(value)}`);
      }
      if (required.kind === 'checkouts') {
        const bad = checkoutsProblem(value, field, type, now);
        if (bad) problem(bad.field, bad.message);
      }
    }
  }
  if (problems.length > before) return undefined;
  return { type: type as string, known, timestamp: timestamp as number, content: normalised, contentJson };
}

/** The most customers one AUTOMATIC_CUSTOMER_CHECKOUT may check out (the content size bounds it anyway). */
export const MAX_AUTOMATIC_CHECKOUTS = 1000;

/**
 * An ISO 8601 date-time with its offset (`Z`, `+01:00`, `+0100`), optionally followed by the zone id
 * the upstream appends (`[Europe/Berlin]`); seconds and fractions optional. A time without an offset
 * is refused: which zone it meant cannot be known.
 */
const ISO_DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:?\d{2})(?:\[[A-Za-z0-9_+\-/]{1,64}\])?$/;

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

/**
 * Why `value` is not a valid `content.checkouts` of AUTOMATIC_CUSTOMER_CHECKOUT (a list of
 * `{customerId, checkoutTime}`), naming the item and field, or undefined. Times obey the same bounds
 * as an element's `timestamp`.
 */
function checkoutsProblem(value: unknown, field: string, type: string, now: number): Problem | undefined {
  if (!Array.isArray(value)) return { field, message: `${type} needs a list of {customerId, checkoutTime} here, got ${value === undefined ? 'nothing' : describe(value)}` };
  if (value.length > MAX_AUTOMATIC_CHECKOUTS) return { field, message: `expected at most ${MAX_AUTOMATIC_CHECKOUTS} checkouts, got ${value.length}` };
  for (let index = 0; index < value.length; index += 1) {
    const item: unknown = value[index];
    const at = `${field}[${index}]`;
    if (!isObject(item)) return { field: at, message: `expected an object {customerId, checkoutTime}, got ${describe(item)}` };
    if (parseId(item.customerId) === undefined) {
      return { field: `${at}.customerId`, message: `expected a non-negative integer customer id, got ${item.customerId === undefined ? 'nothing' : describe(item.customerId)}` };
    }
    const time = typeof item.checkoutTime === 'string' ? parseIsoDateTime(item.checkoutTime) : undefined;
    if (time === undefined) {
      return { field: `${at}.checkoutTime`, message: `expected an ISO 8601 date-time with an offset (2026-01-15T22:00:00+01:00), got ${item.checkoutTime === undefined ? 'nothing' : describe(item.checkoutTime)}` };
    }
    if (time < EARLIEST_TIMESTAMP || time > now + MAX_TIMESTAMP_AHEAD_MS) {
      return { field: `${at}.checkoutTime`, message: `expected a time from ${new Date(EARLIEST_TIMESTAMP).toISOString()} to one day ahead of now, got ${describe(item.checkoutTime)}` };
    }
  }
  return undefined;
}

/** `content.checkouts` of a validated (stored) AUTOMATIC_CUSTOMER_CHECKOUT, typed. */
export function readAutomaticCheckouts(value: unknown): AutomaticCheckout[] {
  if (!Array.isArray(value)) return [];
  return value.map((item: Record<string, unknown>) => ({ customerId: parseId(item['customerId'])!, checkoutAt: parseIsoDateTime(String(item['checkoutTime']))! }));
}

/** A NUL or an unpaired surrogate: either character, or nothing (the common case, one regex test). */
const SUSPECT = /[\u0000\ud800-\udfff]/;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * Why both databases cannot store `text` alike, or undefined. PostgreSQL refuses NUL in text (SQLite
 * keeps it), and an unpaired UTF-16 surrogate (legal in a JSON string escape) has no UTF-8 form: the
 * drivers would store U+FFFD instead, silently. One rule for both: refused.
 */
function unstorableString(text: string): string | undefined {
  if (!SUSPECT.test(text)) return undefined;
  if (text.includes('\u0000')) return 'contains a NUL character (U+0000)';
  return LONE_SURROGATE.test(text) ? 'contains an unpaired UTF-16 surrogate' : undefined;
}

/**
 * The first reason `content` cannot be stored exactly, naming its path, or undefined. Checks every
 * key and value at every level: strings both databases hold alike, numbers JSON carries exactly
 * (finite; integers within +-(2^53 - 1), since larger ones were already rounded by JSON.parse), and
 * at most {@link MAX_CONTENT_DEPTH} levels. The recursion stops at that depth, so a body nested
 * thousands deep (which JSON.parse accepts) costs 32 frames, not a stack overflow.
 */
function checkContent(root: Record<string, unknown>, rootPath: string): Problem | undefined {
  const trail: (string | number)[] = [];
  const at = (): string => trail.reduce<string>((out, step) => (typeof step === 'number' ? `${out}[${step}]` : `${out}.${step}`), rootPath);
  const visit = (value: unknown, depth: number): string | undefined => {
    switch (typeof value) {
      case 'string':
        return unstorableString(value);
      case 'number':
        if (!Number.isFinite(value)) return `expected a finite number, got ${value}`;
        if (Number.isInteger(value) && !Number.isSafeInteger(value)) {
          return `expected an integer within +-${Number.MAX_SAFE_INTEGER} (JSON numbers beyond it are rounded), got ${value}`;
        }
        return undefined;
      case 'object': {
        if (value === null) return undefined;
        if (depth > MAX_CONTENT_DEPTH) return `expected content nested at most ${MAX_CONTENT_DEPTH} levels deep, got deeper`;
        if (Array.isArray(value)) {
          for (let index = 0; index < value.length; index += 1) {
            trail.push(index);
            const bad = visit(value[index], depth + 1);
            if (bad) return bad;
            trail.pop();
          }
          return undefined;
        }
        for (const key in value) {
          trail.push(key);
          const bad = unstorableString(key)?.replace(/^/, 'a key that ') ?? visit((value as Record<string, unknown>)[key], depth + 1);
          if (bad) return bad;
          trail.pop();
        }
        return undefined;
      }
      default:
        return undefined; // booleans; JSON has nothing else
    }
  };
  const bad = visit(root, 1);
  return bad === undefined ? undefined : { field: at(), message: bad };
}

/**
 * JSON text of `value` with object keys sorted, so that two bodies meaning the same thing (keys in
 * another order, as PostgreSQL's or the operator's serialiser may give them) serialise alike. Only
 * for validated values: their depth is bounded.
 */
export function canonicalJson(value: unknown): string {
  if (typeof value !== 'object' || value === null) return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record).sort();
  let out = '{';
  for (let i = 0; i < keys.length; i += 1) out += `${i > 0 ? ',' : ''}${JSON.stringify(keys[i])}:${canonicalJson(record[keys[i]!])}`;
  return `${out}}`;
}

/** What a delivery says, for the idempotency digest: everything that is stored, nothing that is ignored. */
export interface DigestElement {
  readonly type: string;
  readonly timestamp: number;
  readonly content: Readonly<Record<string, unknown>> | null;
}

/**
 * SHA-256 (hex) of `[entityId, [[type, timestamp, content], ...]]` in canonical JSON. The uuid is
 * the key, not part of the value; `content` is normalised (absent, null and `{}` are all null), and
 * unknown properties, which are not stored, do not count.
 */
export function deliveryDigest(entityId: number, elements: readonly DigestElement[]): string {
  let text = `[${entityId},[`;
  elements.forEach((element, index) => {
    text += `${index > 0 ? ',' : ''}[${JSON.stringify(element.type)},${element.timestamp},${canonicalJson(element.content)}]`;
  });
  return createHash('sha256').update(`${text}]]`, 'utf8').digest('hex');
}

/**
 * A delivery built by this service itself (reconciliation, the bench seed) rather than received:
 * its elements come from trusted code, so only the derived fields (stored JSON, digest) are filled.
 */
export function internalDelivery(
  uuid: string,
  entityId: number,
  elements: readonly Omit<DeliveryElement, 'contentJson'>[],
): Delivery {
  const full = elements.map((e) => ({ ...e, contentJson: e.content === null ? null : JSON.stringify(e.content) }));
  return { uuid, entityId, elements: full, digest: deliveryDigest(entityId, full) };
}
