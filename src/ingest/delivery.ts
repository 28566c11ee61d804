import { createHash } from 'node:crypto';
import { contentProblem, isKnownEventType } from '../events/event-catalog.js';
import { EARLIEST_TIMESTAMP, MAX_TIMESTAMP_AHEAD_MS, describe, isObject, parseId, type Problem } from '../events/values.js';

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

export type ValidationResult =
  { readonly ok: true; readonly delivery: Delivery } | { readonly ok: false; readonly problems: readonly Problem[] };

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
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

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
  return {
    ok: true,
    delivery: { uuid: (uuid as string).toLowerCase(), entityId: entityId!, elements, digest: deliveryDigest(entityId!, elements) },
  };
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
    problem(
      `${path}.type`,
      `expected a non-empty string of at most ${MAX_TYPE_LENGTH} characters, got ${type === undefined ? 'nothing' : describe(type)}`,
    );
  } else {
    const bad = unstorableString(type);
    if (bad) problem(`${path}.type`, `expected text both databases can store, got a string that ${bad}`);
  }
  if (typeof timestamp !== 'number' || !Number.isSafeInteger(timestamp) || timestamp < 0) {
    problem(
      `${path}.timestamp`,
      `expected milliseconds since the epoch (a non-negative integer), got ${timestamp === undefined ? 'nothing' : describe(timestamp)}`,
    );
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
    const bad = contentProblem(type, normalised, { path: `${path}.content`, now });
    if (bad) problem(bad.field, bad.message);
  }
  if (problems.length > before) return undefined;
  return { type: type as string, known, timestamp: timestamp as number, content: normalised, contentJson };
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
export function internalDelivery(uuid: string, entityId: number, elements: readonly Omit<DeliveryElement, 'contentJson'>[]): Delivery {
  const full = elements.map((e) => ({ ...e, contentJson: e.content === null ? null : JSON.stringify(e.content) }));
  return { uuid, entityId, elements: full, digest: deliveryDigest(entityId, full) };
}
