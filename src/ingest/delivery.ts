import { REQUIRED_CONTENT, isKnownEventType } from './event-types.js';

/** One element of a delivery's `payload`, validated. */
export interface DeliveryElement {
  readonly type: string;
  readonly known: boolean;
  /** `timestamp`: epoch ms, when it happened upstream. */
  readonly timestamp: number;
  /** `content` as received (null when absent, null or `{}`). */
  readonly content: Readonly<Record<string, unknown>> | null;
}

/** A webhook body that passed validation. */
export interface Delivery {
  /** Lower-cased `uuid`: the idempotency key. */
  readonly uuid: string;
  readonly entityId: number;
  readonly elements: readonly DeliveryElement[];
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
export function validateDelivery(body: unknown): ValidationResult {
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
      const element = validateElement(item, `payload[${index}]`, problems);
      if (element) elements.push(element);
    });
  }

  if (problems.length > 0) return { ok: false, problems };
  return { ok: true, delivery: { uuid: (uuid as string).toLowerCase(), entityId: entityId!, elements } };
}

function validateElement(item: unknown, path: string, problems: Problem[]): DeliveryElement | undefined {
  const problem = (field: string, message: string) => problems.push({ field, message });
  if (!isObject(item)) {
    problem(path, `expected an object, got ${describe(item)}`);
    return undefined;
  }
  const before = problems.length;
  const { type, timestamp, content } = item;
  if (typeof type !== 'string' || type.length === 0 || type.length > MAX_TYPE_LENGTH) {
    problem(`${path}.type`, `expected a non-empty string of at most ${MAX_TYPE_LENGTH} characters, got ${type === undefined ? 'nothing' : describe(type)}`);
  }
  if (typeof timestamp !== 'number' || !Number.isSafeInteger(timestamp) || timestamp < 0) {
    problem(`${path}.timestamp`, `expected milliseconds since the epoch (a non-negative integer), got ${timestamp === undefined ? 'nothing' : describe(timestamp)}`);
  }
  let normalised: Record<string, unknown> | null = null;
  if (content !== undefined && content !== null) {
    if (!isObject(content)) problem(`${path}.content`, `expected an object or null, got ${describe(content)}`);
    else if (Object.keys(content).length > 0) normalised = content;
  }
  const known = typeof type === 'string' && isKnownEventType(type);
  if (known) {
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
    }
  }
  if (problems.length > before) return undefined;
  return { type: type as string, known, timestamp: timestamp as number, content: normalised };
}
