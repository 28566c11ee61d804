import {
  EARLIEST_TIMESTAMP,
  MAX_TIMESTAMP_AHEAD_MS,
  describe,
  describeGot,
  isObject,
  parseId,
  parseIsoDateTime,
  type Problem,
} from './values.js';

/** Where a content field is being checked, for messages. */
export interface FieldContext {
  /** The event type, e.g. `CONTRACT_CREATED`. */
  readonly type: string;
  /** JSON path of the field, e.g. `payload[0].content.contractId`. */
  readonly path: string;
  /** This server's clock, epoch ms (times are bounded by it). */
  readonly now: number;
}

/**
 * One kind of content field: how a webhook's value is checked, and how a stored (so already
 * checked) value is read back typed. `T` is what projections and subscriptions see.
 */
export interface FieldKind<T> {
  /** Why `value` is not acceptable, naming the path, or undefined. An absent value is a problem unless the kind is optional. */
  problem(value: unknown, context: FieldContext): Problem | undefined;
  /** The typed value of a stored, validated content field. */
  read(value: unknown): T;
  /** For the catalog: what the field holds, in a few words. */
  readonly expected: string;
}

/** The typed value a field kind reads. */
export type FieldValue<K> = K extends FieldKind<infer T> ? T : never;

/** A content schema: field name to kind. */
export type ContentSchema = { readonly [field: string]: FieldKind<unknown> };

/** The typed content of events declared with schema `S`. */
export type ContentOf<S extends ContentSchema> = { readonly [F in keyof S]: FieldValue<S[F]> };

/** An upstream id (int64 as a JSON integer or a string of digits). */
export const id: FieldKind<number> = {
  expected: 'an id',
  problem: (value, { type, path }) =>
    parseId(value) === undefined
      ? { field: path, message: `${type} needs a non-negative integer id here, got ${describeGot(value)}` }
      : undefined,
  read: (value) => parseId(value) ?? Number.NaN,
};

/**
 * A count or length (an idle period's `idlePeriodAmount`, `usedFreeTermsInDays`): a non-negative
 * integer, as a JSON integer or a string of digits (the upstream writes int64 fields either way),
 * at most 2^31 - 1 so that it fits an INTEGER column and a GraphQL Int.
 */
export const count: FieldKind<number> = {
  expected: 'a non-negative integer',
  problem: (value, { type, path }) => {
    const parsed = parseId(value);
    return parsed === undefined || parsed > 2_147_483_647
      ? { field: path, message: `${type} needs a non-negative integer (at most 2147483647) here, got ${describeGot(value)}` }
      : undefined;
  },
  read: (value) => parseId(value) ?? Number.NaN,
};

/** An id that is not ours to interpret (an aggregator's member id): a non-empty string or an integer. */
export const foreignId: FieldKind<string> = {
  expected: 'an id (string or integer)',
  problem: (value, { type, path }) =>
    (typeof value === 'string' && value.length > 0 && value.length <= 200) || parseId(value) !== undefined
      ? undefined
      : { field: path, message: `${type} needs a non-empty id (string or integer) here, got ${describeGot(value)}` },
  read: (value) => String(value),
};

/** A field that may be absent or null: read as null then. */
export function optional<T>(kind: FieldKind<T>): FieldKind<T | null> {
  return {
    expected: `${kind.expected} (optional)`,
    problem: (value, context) => (value === undefined || value === null ? undefined : kind.problem(value, context)),
    read: (value) => (value === undefined || value === null ? null : kind.read(value)),
  };
}

/**
 * A condition over several content fields together, checked after every field passed its own kind
 * (a kind sees one value; a rule sees the whole content).
 */
export interface ContentRule {
  /** Why `content` breaks the rule, naming a field under `context.path` (the content's path), or undefined. */
  problem(content: Readonly<Record<string, unknown>> | null, context: FieldContext): Problem | undefined;
  /** For the catalog: the rule in a few words. */
  readonly expected: string;
}

/**
 * At least one of `fields` is present (neither absent nor null). The problem names the first field,
 * which is the one to send: `payload[0].content.agencyDebtCollectionCaseId`.
 */
export function atLeastOneOf(first: string, ...others: readonly string[]): ContentRule {
  const fields = [first, ...others];
  const list = `${fields.slice(0, -1).join(', ')} or ${fields[fields.length - 1]!}`;
  return {
    expected: `at least one of ${list}`,
    problem: (content, { type, path }) =>
      fields.some((field) => content?.[field] !== undefined && content?.[field] !== null)
        ? undefined
        : { field: `${path}.${first}`, message: `${type} needs ${list} here, got neither` },
  };
}

/** One customer the studio checked out itself (AUTOMATIC_CUSTOMER_CHECKOUT `content.checkouts[]`). */
export interface AutomaticCheckout {
  /** The upstream customer id. */
  readonly customerId: number;
  /** `checkoutTime`, epoch ms. */
  readonly checkoutAt: number;
}

/** The most customers one AUTOMATIC_CUSTOMER_CHECKOUT may check out (the content size bounds it anyway). */
export const MAX_AUTOMATIC_CHECKOUTS = 1000;

/**
 * A list of `{customerId, checkoutTime}` (ISO date-times with an offset), read as
 * {@link AutomaticCheckout}s. Times obey the same bounds as an element's `timestamp`.
 */
export const checkouts: FieldKind<readonly AutomaticCheckout[]> = {
  expected: 'a list of {customerId, checkoutTime}',
  problem(value, { type, path, now }) {
    if (!Array.isArray(value))
      return { field: path, message: `${type} needs a list of {customerId, checkoutTime} here, got ${describeGot(value)}` };
    if (value.length > MAX_AUTOMATIC_CHECKOUTS)
      return { field: path, message: `expected at most ${MAX_AUTOMATIC_CHECKOUTS} checkouts, got ${value.length}` };
    for (let index = 0; index < value.length; index += 1) {
      const item: unknown = value[index];
      const at = `${path}[${index}]`;
      if (!isObject(item)) return { field: at, message: `expected an object {customerId, checkoutTime}, got ${describe(item)}` };
      if (parseId(item['customerId']) === undefined) {
        return {
          field: `${at}.customerId`,
          message: `expected a non-negative integer customer id, got ${describeGot(item['customerId'])}`,
        };
      }
      const time = typeof item['checkoutTime'] === 'string' ? parseIsoDateTime(item['checkoutTime']) : undefined;
      if (time === undefined) {
        return {
          field: `${at}.checkoutTime`,
          message: `expected an ISO 8601 date-time with an offset (2026-01-15T22:00:00+01:00), got ${describeGot(item['checkoutTime'])}`,
        };
      }
      if (time < EARLIEST_TIMESTAMP || time > now + MAX_TIMESTAMP_AHEAD_MS) {
        return {
          field: `${at}.checkoutTime`,
          message: `expected a time from ${new Date(EARLIEST_TIMESTAMP).toISOString()} to one day ahead of now, got ${describe(item['checkoutTime'])}`,
        };
      }
    }
    return undefined;
  },
  read: (value) =>
    Array.isArray(value)
      ? value.map((item: Record<string, unknown>) => ({
          customerId: parseId(item['customerId']) ?? Number.NaN,
          checkoutAt: parseIsoDateTime(String(item['checkoutTime'])) ?? Number.NaN,
        }))
      : [],
};
