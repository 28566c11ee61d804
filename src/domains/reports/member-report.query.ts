import type { DataSource } from 'typeorm';
import { SqlReader, type SqlParams } from '../../db/sql-reader.js';
import { ErrorCode, clientError } from '../../api/errors.js';
import { PERIODS, dated, grouped, groupingsOf } from '../stats/stats-input.js';
import { dateStart, localDate, type WallClock } from '../stats/time-buckets.js';
import { ContractPeriodGrouping, type ContractPeriod } from './member-report.types.js';
import { studiosSql, type LocalDay } from './report-input.js';
import { TABLES } from '../../db/tables.js';

/** Where a member report looks: its studios, its date, and today (both local dates). */
export interface MemberScope {
  readonly studios: readonly number[];
  /**
   * `studios` is every studio: no condition on the studio then, so that the walk of absent members
   * follows `contracts_customer` in page order (a list of several studios has to be sorted per page).
   */
  readonly everyStudio?: boolean;
  readonly day: LocalDay;
  readonly today: LocalDay;
}

/**
 * How a statement checks each contract's customer: `page` with a lookup per contract read (scalar
 * subqueries through `customers_key` and `customer_studios_key`), so a page costs what it walks;
 * `count` with NOT EXISTS, which PostgreSQL turns into one hash anti-join — five times faster when
 * every contract is read, but a read of every customer even for a page.
 */
type Walk = 'page' | 'count';

/**
 * Contracts `k` active on the scope's date, and not of a deleted customer (see `MembersReport` for
 * the definition). Dates are ISO strings on both databases, so they compare as text.
 */
function activeContractSql(params: SqlParams, scope: MemberScope, walk: Walk): string {
  // One placeholder per use: SQLite's `?` are positional.
  const date = () => params.add(scope.day.date);
  const customer = `c."tenantId" = k."tenantId" AND c."customerId" = k."customerId"`;
  return [
    `k."startDate" IS NOT NULL`,
    `k."startDate" <= ${date()}`,
    `(k."endDate" IS NULL OR k."endDate" >= ${date()})`,
    `(k."cancellationDate" IS NULL OR k."cancellationDate" > ${date()})`,
    `(k."contractStatus" = 'ACTIVE' OR k."cancellationDate" IS NOT NULL OR k."endDate" < ${params.add(scope.today.date)})`,
    walk === 'page'
      ? `(SELECT c."deletedAt" FROM "${TABLES.customers}" c WHERE ${customer}) IS NULL`
      : `NOT EXISTS (SELECT 1 FROM "${TABLES.customers}" c WHERE ${customer} AND c."deletedAt" IS NOT NULL)`,
    ...(scope.everyStudio ? [] : studiosSql('k."studioId"', scope.studios)),
  ].join(' AND ');
}

/** Customers with an active contract on the scope's date (index `contracts_member` for a studio's contracts). */
export async function activeMembers(dataSource: DataSource, scope: MemberScope): Promise<number> {
  const reader = SqlReader.of(dataSource);
  const params = reader.params();
  const [row] = await reader.scan<{ members: number | string }>(
    `SELECT COUNT(*) AS "members" FROM (SELECT k."tenantId", k."customerId" FROM "${TABLES.contracts}" k WHERE ${activeContractSql(params, scope, 'count')} GROUP BY k."tenantId", k."customerId") m`,
    params.values,
  );
  return Number(row?.members ?? 0);
}

/** One absent member of a page, with the key its cursor holds. */
export interface AbsentRow {
  readonly tenantId: number;
  readonly customerId: number;
  readonly lastCheckinAt: number | null;
}

/** The studios of the check-ins that count, as a condition on `cs` ('' for every studio). */
const checkinStudios = (scope: MemberScope) =>
  scope.everyStudio
    ? ''
    : studiosSql('cs."studioId"', scope.studios)
        .map((condition) => ` AND ${condition}`)
        .join('');

/** The latest check-in of contract `k`'s customer at the scope's studios, or NULL. */
const lastCheckinSql = (scope: MemberScope) =>
  `(SELECT MAX(cs."lastCheckinAt") FROM "${TABLES.customer_studios}" cs WHERE cs."tenantId" = k."tenantId" AND cs."customerId" = k."customerId"${checkinStudios(scope)})`;

/** The conditions on contracts `k` of members with no check-in at the scope's studios at or after `since` (see {@link Walk}). */
function absentSql(params: SqlParams, scope: MemberScope, since: number, walk: Walk): string {
  const active = activeContractSql(params, scope, walk);
  return walk === 'page'
    ? `${active} AND COALESCE(${lastCheckinSql(scope)}, -1) < ${params.add(since)}`
    : `${active} AND NOT EXISTS (SELECT 1 FROM "${TABLES.customer_studios}" cs WHERE cs."tenantId" = k."tenantId" AND cs."customerId" = k."customerId"${checkinStudios(scope)} AND cs."lastCheckinAt" >= ${params.add(since)})`;
}

/**
 * Members (active on the scope's date) with no check-in at the scope's studios at or after `since`,
 * in (tenant, customer) order from after `after`, at most `limit`. The walk follows the contracts in
 * that order (index `contracts_member` for some studios, `contracts_customer` for every studio) and
 * stops when the page is full; each candidate costs index lookups (`customers_key`, `customer_studios_key`).
 */
export async function absentMembers(
  dataSource: DataSource,
  scope: MemberScope,
  since: number,
  after: { readonly tenantId: number; readonly customerId: number } | null,
  limit: number,
): Promise<AbsentRow[]> {
  const reader = SqlReader.of(dataSource);
  const params = reader.params();
  const conditions = [absentSql(params, scope, since, 'page')];
  if (after) {
    // A row value: both databases seek the index to it (an OR of the two columns made PostgreSQL walk from the studio's first member).
    conditions.push(`(k."tenantId", k."customerId") > (${params.add(after.tenantId)}, ${params.add(after.customerId)})`);
  }
  const rows = await reader.all<{ tenantId: unknown; customerId: unknown; lastCheckinAt: unknown }>(
    `SELECT k."tenantId" AS "tenantId", k."customerId" AS "customerId", ${lastCheckinSql(scope)} AS "lastCheckinAt"
       FROM "${TABLES.contracts}" k WHERE ${conditions.join(' AND ')}
      GROUP BY k."tenantId", k."customerId" ORDER BY k."tenantId", k."customerId" LIMIT ${params.add(limit)}`,
    params.values,
  );
  return rows.map((row) => ({
    tenantId: Number(row.tenantId),
    customerId: Number(row.customerId),
    lastCheckinAt: row.lastCheckinAt == null ? null : Number(row.lastCheckinAt),
  }));
}

/** How many members {@link absentMembers} lists in all (`totalCount`). */
export async function countAbsentMembers(dataSource: DataSource, scope: MemberScope, since: number): Promise<number> {
  const reader = SqlReader.of(dataSource);
  const params = reader.params();
  const [row] = await reader.scan<{ members: unknown }>(
    `SELECT COUNT(*) AS "members" FROM (SELECT k."tenantId", k."customerId" FROM "${TABLES.contracts}" k WHERE ${absentSql(params, scope, since, 'count')} GROUP BY k."tenantId", k."customerId") m`,
    params.values,
  );
  return Number(row?.members ?? 0);
}

/**
 * A cancelled contract, as both the members report and `contractStats` count it: the Open API says it
 * is cancelled and gives the calendar day (`cancelled`, `cancellationDate`, hydrated together from one
 * answer). CONTRACT_CANCELLED's time (`cancelledAt`) is not counted: it queues that read, and the
 * contract counts once the read lands, on the upstream's own day — a day taken from the event's
 * instant in the report's time zone could differ near midnight, and a cancellation withdrawn later
 * would still count.
 */
const cancelledSql = (alias: string) => `${alias}."cancelled" = TRUE AND ${alias}."cancellationDate" IS NOT NULL`;
const CANCELLED = cancelledSql('k');

/**
 * Contracts created (by the CONTRACT_CREATED time) and cancelled (see {@link CANCELLED}) per
 * combination of the `groupBy` dimensions within [from, to) — the statistics engine's groupings, as
 * `contractStats` counts them (stats-query.ts `groupedStats` for the creations, `datedStats` for the
 * cancellation dates); an open end is the earliest or latest such contract. One local period must be
 * among the dimensions (a row is a period). Every period (and studio) is listed, zeros included.
 * @throws BAD_USER_INPUT without a period or with a dimension twice; TOO_MANY_BUCKETS past the bucket caps.
 */
export async function contractPeriods(
  dataSource: DataSource,
  studios: readonly number[],
  clock: WallClock,
  range: { from: number | null; to: number | null },
  groupBy: readonly ContractPeriodGrouping[],
): Promise<ContractPeriod[]> {
  if (!groupBy.some((value) => (PERIODS as readonly string[]).includes(value))) {
    throw clientError(ErrorCode.BAD_USER_INPUT, `groupBy: a contract period needs one of DAY, WEEK or MONTH, got [${groupBy.join(', ')}]`);
  }
  const reader = SqlReader.of(dataSource);
  const scoped = studiosSql('k."studioId"', studios);
  const where = (conditions: readonly string[]) => (conditions.length === 0 ? '' : ` WHERE ${conditions.join(' AND ')}`);
  let { from, to } = range;
  if (from === null || to === null) {
    const [bounds] = await reader.scan<Record<string, unknown>>(
      `SELECT (SELECT MIN(k."createdAt") FROM "${TABLES.contracts}" k${where(scoped)}) AS "firstCreated", (SELECT MAX(k."createdAt") FROM "${TABLES.contracts}" k${where(scoped)}) AS "lastCreated",
              (SELECT MIN(k."cancellationDate") FROM "${TABLES.contracts}" k${where([CANCELLED, ...scoped])}) AS "firstCancelled",
              (SELECT MAX(k."cancellationDate") FROM "${TABLES.contracts}" k${where([CANCELLED, ...scoped])}) AS "lastCancelled"`,
    );
    const dayStart = (date: unknown) => (typeof date === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(date) ? dateStart(clock, date) : null);
    const created = [bounds?.['firstCreated'], bounds?.['lastCreated']].map((v) => (v == null ? null : Number(v)));
    const cancelled = [dayStart(bounds?.['firstCancelled']), dayStart(bounds?.['lastCancelled'])];
    const firsts = [created[0], cancelled[0]].filter((v): v is number => v != null);
    const lasts = [created[1], cancelled[1]].filter((v): v is number => v != null);
    from ??= firsts.length === 0 ? null : Math.min(...firsts);
    to ??= lasts.length === 0 ? null : Math.max(...lasts) + 1;
    if (from === null || to === null || from >= to) return [];
  }
  const args = { from, to, clock };
  const groupings = groupingsOf(groupBy, [ContractPeriodGrouping.MONTH], args, () => ({
    kind: 'studio',
    studios: studiosSql('st."id"', studios),
  }));
  // The statistics engine's sources read the alias `r`.
  const inStudios = studiosSql('r."studioId"', studios);
  const [rows, cancelled] = await Promise.all([
    grouped(
      dataSource,
      {
        from: `"${TABLES.contracts}" r`,
        time: 'r."createdAt"',
        studio: 'r."studioId"',
        conditions: inStudios,
        aggregates: { created: 'COUNT(r."id")' },
      },
      groupings,
      args,
    ),
    // Every local day the range touches counts whole: a date has no time of day to cut it at the range's ends.
    dated(
      dataSource,
      {
        from: `"${TABLES.contracts}" r`,
        date: 'r."cancellationDate"',
        studio: 'r."studioId"',
        conditions: [cancelledSql('r'), ...inStudios],
        what: 'cancelled',
        aggregates: { cancelled: 'COUNT(r."id")' },
      },
      groupings,
      { first: localDate(clock, from), last: localDate(clock, to - 1) },
    ),
  ]);
  return rows.map(({ group, created }) => ({
    label: group.label,
    // A period is among the dimensions: every group has its bounds.
    start: group.start!,
    end: group.end!,
    studioId: group.studioId,
    dayOfWeek: group.dayOfWeek,
    created,
    cancelled: cancelled.get(group.key)?.cancelled ?? 0,
  }));
}
