import type { DataSource } from 'typeorm';
import { DEFAULT_OCCUPANCY_MAX_STAY_MS } from '../../config.js';
import { SqlReader } from '../../db/sql-reader.js';
import { TABLES } from '../../db/tables.js';

/**
 * Who is in a studio now. A customer is present at the studio of their latest check-in while no
 * check-out (their own, or the studio's AUTOMATIC_CUSTOMER_CHECKOUT) came after it, they are not
 * deleted — and, with a maximum stay, while that check-in is younger than it: a check-in the studio
 * never closed (no exit turnstile, a lost check-out) stops counting then instead of forever.
 *
 * One rule for every place that says "present": `occupancy`, `occupancyChanged`, `Customer.checkedIn`,
 * `customers(filter: {checkedIn})` and the dashboard (which reads those).
 */
export interface PresenceRule {
  /** `OCCUPANCY_MAX_STAY` in ms; null (`off`): an open check-in counts however old it is. */
  readonly maxStayMs: number | null;
}

const rules = new WeakMap<DataSource, PresenceRule>();

/** Sets the rule of everything reading `dataSource` (once, at start). */
export function usePresenceRule(dataSource: DataSource, rule: PresenceRule): void {
  rules.set(dataSource, rule);
}

/** The rule for `dataSource`: the configured one, or the default for tools that configure none. */
export function presenceRule(dataSource: DataSource): PresenceRule {
  return rules.get(dataSource) ?? { maxStayMs: DEFAULT_OCCUPANCY_MAX_STAY_MS };
}

/** The earliest check-in that still counts at `now` (epoch ms), or null when any does. */
export function presentSince(rule: PresenceRule, now: number): number | null {
  return rule.maxStayMs === null ? null : now - rule.maxStayMs;
}

/** Whether a customer with these times is present at `now` (the studio is checked by the caller). */
export function isPresent(lastCheckinAt: Date | null, lastCheckoutAt: Date | null, rule: PresenceRule, now: number = Date.now()): boolean {
  if (lastCheckinAt === null || (lastCheckoutAt !== null && lastCheckinAt <= lastCheckoutAt)) return false;
  const since = presentSince(rule, now);
  return since === null || lastCheckinAt.getTime() >= since;
}

/** An integer we inline (a time we computed). */
function inlineInt(value: number): string {
  if (!Number.isSafeInteger(value)) throw new Error(`not an integer: ${String(value)}`);
  return String(value);
}

/**
 * {@link isPresent} as SQL over the customers row `alias` (its columns as TypeORM or raw SQL name
 * them: `column(name)`), for `now`. The time bound makes `customers_presence` (studio, check-in) a
 * range scan.
 */
export function presentSql(
  column: (name: 'lastCheckinAt' | 'lastCheckoutAt') => string,
  rule: PresenceRule,
  now: number = Date.now(),
): string {
  const since = presentSince(rule, now);
  const checkin = column('lastCheckinAt');
  const checkout = column('lastCheckoutAt');
  return `${checkin} IS NOT NULL AND (${checkout} IS NULL OR ${checkin} > ${checkout})${since === null ? '' : ` AND ${checkin} >= ${inlineInt(since)}`}`;
}

/**
 * Customers present now, per studio matching `conditions` (on the alias `st`), zeros included. The
 * `occupancy` query and the `occupancyChanged` subscription both count with it.
 */
export async function checkedInByStudio(
  dataSource: DataSource,
  conditions: readonly string[],
  /**
   * `scan`: wait for a scan slot first (SqlReader.scan), as the `occupancy` query over every studio
   * does; `all`: not queued, for the subscription's count of one studio after a check-in (an index
   * lookup, which must not wait behind someone's statistics).
   */
  read: 'scan' | 'all' = 'all',
  now: number = Date.now(),
): Promise<{ studioId: number; checkedIn: number }[]> {
  const reader = SqlReader.of(dataSource);
  const rows = await reader[read]<{ studioId: number | string; checkedIn: number | string }>(
    `SELECT st."id" AS "studioId", COUNT(c."id") AS "checkedIn"
       FROM "${TABLES.studios}" st LEFT JOIN "${TABLES.customers}" c
         ON c."lastCheckinStudioId" = st."id" AND c."tenantId" = st."tenantId" AND c."deletedAt" IS NULL
        AND ${presentSql((name) => `c."${name}"`, presenceRule(dataSource), now)}
      ${conditions.length === 0 ? '' : `WHERE ${conditions.join(' AND ')}`}
      GROUP BY st."id" ORDER BY st."id"`,
  );
  return rows.map((row) => ({ studioId: Number(row.studioId), checkedIn: Number(row.checkedIn) }));
}

/**
 * When the next of the stays counted at `studioId` now runs out (epoch ms), or null when none will
 * (no maximum stay, or nobody in): when `occupancyChanged` counts again without an event.
 */
export async function nextStayExpiry(dataSource: DataSource, studioId: number, now: number = Date.now()): Promise<number | null> {
  const rule = presenceRule(dataSource);
  if (rule.maxStayMs === null) return null;
  const [row] = await SqlReader.of(dataSource).all<{ oldest: number | string | null }>(
    `SELECT MIN(c."lastCheckinAt") AS "oldest" FROM "${TABLES.customers}" c
      WHERE c."lastCheckinStudioId" = ${inlineInt(studioId)} AND c."deletedAt" IS NULL AND ${presentSql((name) => `c."${name}"`, rule, now)}`,
  );
  return row?.oldest == null ? null : Number(row.oldest) + rule.maxStayMs;
}
