import type { GraphQLField } from 'graphql';
import { Extensions } from 'type-graphql';

/** The field extension that declares a root query field's answer cacheable (set by {@link AnswerCacheable}). */
const ANSWER_CACHE_EXTENSION = 'answerCache';

/**
 * When the answer of a root query field is a pure function of the rows committed (and of the
 * viewer and the arguments), so that the answer cache (src/graphql/answer-cache.ts) may keep it
 * until the data changes:
 *
 * - `always`: nothing in the answer depends on the clock.
 * - `range-ends`: only while the `range` argument has a `to`; a missing `to` means "now" (rounded
 *   to the quarter hour), so the same question would get a different answer a minute later.
 *
 * A field without a policy is never cached — nor is any operation that selects one at its root.
 * Anything reading "now" (occupancy, presence, max-stay expiry, "today", "absent since") has none.
 * The nested fields of a cacheable field must not read the clock either.
 */
export type AnswerCachePolicy = 'always' | 'range-ends';

/** Declares a root query field's answer cacheable under `policy` (see {@link AnswerCachePolicy}). */
export function AnswerCacheable(policy: AnswerCachePolicy): MethodDecorator {
  return Extensions({ [ANSWER_CACHE_EXTENSION]: policy }) as MethodDecorator;
}

/**
 * Whether `field`, called with `args` (its argument values), gives an answer that may be cached.
 * @param args the argument values (raw variables are fine: only the presence of `range.to` is read).
 */
export function answerCacheableWith(field: GraphQLField<unknown, unknown>, args: Record<string, unknown>): boolean {
  const policy = field.extensions[ANSWER_CACHE_EXTENSION] as AnswerCachePolicy | undefined;
  switch (policy) {
    case undefined:
      return false;
    case 'always':
      return true;
    case 'range-ends': {
      const range = args['range'];
      return typeof range === 'object' && range !== null && (range as { to?: unknown }).to != null;
    }
    default: {
      const unknown: never = policy;
      throw new Error(`unknown answer cache policy ${String(unknown)}`);
    }
  }
}
