import { SqlReader } from '../../db/sql-reader.js';
import type { PrefetchHint } from '../../api/children.js';
import type { GraphQLContext } from '../../api/context.js';
import type { Scope } from '../../api/scope.js';
import type { Customer } from './customer.entity.js';
import { TABLES } from '../../db/tables.js';

/**
 * A customer's activity as the studios of one scope saw it. A customer belongs to the whole
 * operator and may visit several of its studios; the `customers` row holds the operator-wide
 * values (first and last event, latest check-in and its studio, latest check-out), which would tell
 * a token about visits to studios it may not see. A restricted token gets these instead, computed
 * from the per-studio rows of `customer_studios` of its own studios — chosen inside the SQL.
 */
export interface CustomerActivity {
  /** The visible studio that delivered the earliest event about the customer. */
  readonly studioId: number;
  readonly firstEventAt: Date;
  readonly lastEventAt: Date;
  /** The latest check-in at a visible studio, and that studio; null if none. */
  readonly lastCheckinAt: Date | null;
  readonly lastCheckinStudioId: number | null;
  /** The latest check-out delivered by a visible studio; null if none. */
  readonly lastCheckoutAt: Date | null;
}

/** The fields of {@link CustomerActivity}, which the `customers` row has under the same names. */
export type ActivityField = keyof CustomerActivity;

/**
 * `field` of `customer` for the viewer: the row's own value for a token that sees every studio
 * (nothing more is read), else the value over the viewer's studios, batched per request (one
 * statement for all the customers of a response).
 */
export function customerActivity<F extends ActivityField>(
  customer: Customer,
  field: F,
  context: GraphQLContext,
): CustomerActivity[F] | Promise<CustomerActivity[F]> {
  if (context.scope.unrestricted) return customer[field] as CustomerActivity[F];
  return activityLoader(context)
    .load([customer.tenantId, customer.customerId])
    .then((activity) => activity[field]);
}

function activityLoader(context: GraphQLContext) {
  return context.loaders.get<readonly [number, number], CustomerActivity>(
    'customerActivity',
    (keys) => loadActivity(context, keys),
    ([t, c]) => `${t}:${c}`,
  );
}

interface LinkRow {
  tenantId: number | string;
  customerId: number | string;
  studioId: number | string;
  firstEventAt: number | string;
  lastEventAt: number | string;
  lastCheckinAt: number | string | null;
  lastCheckoutAt: number | string | null;
}

/**
 * The visible `customer_studios` rows of the customers `keys` (the parents drive the join: one
 * index seek on `customer_studios_key` each; SQLite keeps a CROSS JOIN's order), folded per customer.
 */
async function loadActivity(context: GraphQLContext, keys: readonly (readonly [number, number])[]): Promise<(CustomerActivity | Error)[]> {
  const reader = SqlReader.of(context.dataSource);
  const params = reader.params();
  const values = keys.map(([t, c]) => `(${params.int(t)}, ${params.int(c)})`).join(', ');
  const rows = await reader.all<LinkRow>(
    `WITH parents ("p0", "p1") AS (VALUES ${values})
     SELECT cs."tenantId", cs."customerId", cs."studioId", cs."firstEventAt", cs."lastEventAt", cs."lastCheckinAt", cs."lastCheckoutAt"
       FROM parents ${reader.dialect === 'sqlite' ? 'CROSS JOIN' : 'JOIN'} "${TABLES.customer_studios}" cs
         ON cs."tenantId" = parents."p0" AND cs."customerId" = parents."p1"${context.scope.studioSql(params, 'cs."studioId"')}`,
    params.values,
  );
  const byCustomer = new Map<string, LinkRow[]>();
  for (const row of rows) {
    const key = `${row.tenantId}:${row.customerId}`;
    const list = byCustomer.get(key);
    if (list) list.push(row);
    else byCustomer.set(key, [row]);
  }
  return keys.map(([t, c]) => {
    const links = byCustomer.get(`${t}:${c}`);
    // A customer is visible only through such a row; none means it was not visible to begin with.
    return links ? fold(links) : new Error(`customer ${t}:${c} has no activity at a studio of this token`);
  });
}

const time = (value: number | string | null): number | null => (value === null ? null : Number(value));

/** Earliest first event (and its studio; the lower id on a tie), latest last event, check-in (with studio) and check-out. */
function fold(links: readonly LinkRow[]): CustomerActivity {
  let first: LinkRow = links[0]!;
  let lastEventAt = -Infinity;
  let checkin: { at: number; studioId: number } | null = null;
  let checkoutAt: number | null = null;
  for (const link of links) {
    const firstAt = Number(link.firstEventAt);
    const firstOfBest = Number(first.firstEventAt);
    if (firstAt < firstOfBest || (firstAt === firstOfBest && Number(link.studioId) < Number(first.studioId))) first = link;
    lastEventAt = Math.max(lastEventAt, Number(link.lastEventAt));
    const checkinAt = time(link.lastCheckinAt);
    if (
      checkinAt !== null &&
      (checkin === null || checkinAt > checkin.at || (checkinAt === checkin.at && Number(link.studioId) < checkin.studioId))
    ) {
      checkin = { at: checkinAt, studioId: Number(link.studioId) };
    }
    const out = time(link.lastCheckoutAt);
    if (out !== null && (checkoutAt === null || out > checkoutAt)) checkoutAt = out;
  }
  return {
    studioId: Number(first.studioId),
    firstEventAt: new Date(Number(first.firstEventAt)),
    lastEventAt: new Date(lastEventAt),
    lastCheckinAt: checkin === null ? null : new Date(checkin.at),
    lastCheckinStudioId: checkin?.studioId ?? null,
    lastCheckoutAt: checkoutAt === null ? null : new Date(checkoutAt),
  };
}

/**
 * SQL for a restricted viewer's value of `customer.firstEventAt` / `lastEventAt` (epoch ms) — for
 * filters and order, where the value must be known inside the statement. `alias` is the customers
 * row; scope ids are integers of a token and are inlined.
 */
export function scopedEventTimeSql(scope: Scope, alias: string, field: 'firstEventAt' | 'lastEventAt'): string {
  const ids = scope.studioIds;
  if (ids === null) return `${alias}."${field}"`;
  const visible = ids.length === 0 ? '1 = 0' : `cs."studioId" IN (${ids.map(inlineInt).join(', ')})`;
  return `(SELECT ${field === 'firstEventAt' ? 'MIN' : 'MAX'}(cs."${field}") FROM "${TABLES.customer_studios}" cs
    WHERE cs."tenantId" = ${alias}."tenantId" AND cs."customerId" = ${alias}."customerId" AND ${visible})`;
}

function inlineInt(value: number): string {
  if (!Number.isSafeInteger(value)) throw new Error(`not an integer: ${String(value)}`);
  return String(value);
}

/**
 * Each activity field as a scalar subquery of the statement that reads the customers
 * (`customers`, `customer(id)`), so that a page costs no statement more: for a restricted viewer
 * over its studios' `customer_studios` rows (one index seek on `customer_studios_key`), for every
 * studio the row's own column. Customers read elsewhere (nested under visits, in subscriptions) get
 * the same values from {@link customerActivity}.
 */
const ACTIVITY_SQL: Readonly<Record<ActivityField, { readonly aggregate: (where: string) => string; readonly time: boolean }>> = {
  firstEventAt: { aggregate: (where) => `SELECT MIN(cs."firstEventAt") FROM "${TABLES.customer_studios}" cs WHERE ${where}`, time: true },
  lastEventAt: { aggregate: (where) => `SELECT MAX(cs."lastEventAt") FROM "${TABLES.customer_studios}" cs WHERE ${where}`, time: true },
  studioId: {
    aggregate: (where) =>
      `SELECT cs."studioId" FROM "${TABLES.customer_studios}" cs WHERE ${where} ORDER BY cs."firstEventAt", cs."studioId" LIMIT 1`,
    time: false,
  },
  lastCheckinAt: { aggregate: (where) => `SELECT MAX(cs."lastCheckinAt") FROM "${TABLES.customer_studios}" cs WHERE ${where}`, time: true },
  lastCheckinStudioId: {
    aggregate: (where) =>
      `SELECT cs."studioId" FROM "${TABLES.customer_studios}" cs WHERE ${where} AND cs."lastCheckinAt" IS NOT NULL ORDER BY cs."lastCheckinAt" DESC, cs."studioId" LIMIT 1`,
    time: false,
  },
  lastCheckoutAt: {
    aggregate: (where) => `SELECT MAX(cs."lastCheckoutAt") FROM "${TABLES.customer_studios}" cs WHERE ${where}`,
    time: true,
  },
};

/** The activity fields, each read inside the customers' statement, within the viewer's studios (see useFieldHints). */
export const CUSTOMER_ACTIVITY_PREFETCH: readonly PrefetchHint[] = (
  Object.entries(ACTIVITY_SQL) as [ActivityField, (typeof ACTIVITY_SQL)[ActivityField]][]
).map(([field, { aggregate, time }]) => {
  const loader = `customerActivity.${field}`;
  return {
    type: 'Customer',
    field,
    reads: [field, 'tenantId', 'customerId'],
    prefetch: {
      build: () => ({
        loader,
        sql: (_reader, parent, scope) => {
          if (scope.studioIds === null) return `${parent}."${field}"`;
          const visible = scope.studioIds.length === 0 ? '1 = 0' : `cs."studioId" IN (${scope.studioIds.map(inlineInt).join(', ')})`;
          return `(${aggregate(`cs."tenantId" = ${parent}."tenantId" AND cs."customerId" = ${parent}."customerId" AND ${visible}`)})`;
        },
        value: (raw) => (raw == null ? null : time ? new Date(Number(raw)) : Number(raw)),
      }),
      key: () => loader,
    },
  };
});
