import type { Param } from '../../db/sql-writer.js';
import type { OpenApi, UpstreamCustomer } from '../../upstream/open-api.js';
import { change, done, ms, noRecord, readOr, type ClaimedJob, type HydrationReads, type Hydrators, type RecordWrite } from '../hydrator.js';
import { updateRecord } from '../record-writes.js';
import { SEARCH_COLUMNS, searchColumns } from './customer-search.js';
import { TABLES } from '../../db/tables.js';

/**
 * Personal data of a customer: erased (set to null) when the upstream deleted the customer or no
 * longer lets it be read (404/403). Status, home studio and registration time are not personal and
 * stay, like the tombstone itself.
 */
export const CUSTOMER_PERSONAL_COLUMNS = [
  'customerNumber',
  'firstName',
  'lastName',
  'dateOfBirth',
  'gender',
  'email',
  'phonePrivate',
  'phoneMobile',
  'addressStreet',
  'addressHouseNumber',
  'addressZipCode',
  'addressCity',
  'addressCountry',
  'preferredLanguage',
] as const;

/**
 * 1 when the customer row says the upstream no longer lets the customer be read: deleted
 * (CUSTOMER_DELETED) or access disabled (CUSTOMER_ACCESS_DISABLED, for good: nothing re-enables it,
 * see Customer.accessDisabledAt), else 0.
 */
export const CUSTOMER_GONE_SQL = `CASE WHEN "deletedAt" IS NOT NULL OR "accessDisabledAt" IS NOT NULL THEN 1 ELSE 0 END`;

function customerValues(c: UpstreamCustomer): Record<string, Param> {
  return {
    status: c.status,
    accessRefused: c.accessRefusal,
    customerNumber: c.customerNumber,
    homeStudioUpstreamId: c.studioId,
    registeredAt: ms(c.createdDateTime),
    firstName: c.firstName,
    lastName: c.lastName,
    dateOfBirth: c.dateOfBirth,
    gender: c.gender,
    email: c.email,
    phonePrivate: c.phoneNumberPrivate,
    phoneMobile: c.phoneNumberMobile,
    addressStreet: c.address?.street ?? null,
    addressHouseNumber: c.address?.houseNumber ?? null,
    addressZipCode: c.address?.zipCode ?? null,
    addressCity: c.address?.city ?? null,
    addressCountry: c.address?.country ?? null,
    preferredLanguage: c.preferredLanguage,
    personalDataErasedAt: null,
    // Kept with the fields they copy, for prefix search (customer-search.ts).
    ...searchColumns(c),
  };
}

/**
 * Nulls the customer's personal data and deletes their communication preferences. Reports a change
 * only when something was there to erase, so a second erasure is silent.
 */
export function eraseCustomer(tenantId: number, customerId: number): RecordWrite {
  return async (tx, now) => {
    const [row] = await tx.all<Record<string, unknown>>(
      `SELECT ${CUSTOMER_PERSONAL_COLUMNS.map((c) => `"${c}"`).join(', ')}, "personalDataErasedAt" FROM ${TABLES.customers} WHERE "tenantId" = ? AND "customerId" = ?`,
      [tenantId, customerId],
    );
    if (!row) return done([], noRecord('customer'));
    const held = CUSTOMER_PERSONAL_COLUMNS.filter((c) => row[c] !== null && row[c] !== undefined);
    const preferences = await tx.run(`DELETE FROM ${TABLES.communication_preferences} WHERE "tenantId" = ? AND "customerId" = ?`, [
      tenantId,
      customerId,
    ]);
    const erased = [...held, ...(preferences > 0 ? ['communicationPreferences'] : [])];
    if (erased.length === 0) return done([], 'personal data erased: the customer is deleted or can no longer be read');
    await tx.run(
      `UPDATE ${TABLES.customers} SET ${[...CUSTOMER_PERSONAL_COLUMNS, ...SEARCH_COLUMNS].map((c) => `"${c}" = NULL`).join(', ')}, "personalDataErasedAt" = ? WHERE "tenantId" = ? AND "customerId" = ?`,
      [now, tenantId, customerId],
    );
    return done(change('customer', customerId, erased, true), 'personal data erased: the customer is deleted or can no longer be read');
  };
}

/** Replaces a customer's communication preferences with what the upstream answered. */
function writePreferences(
  tenantId: number,
  customerId: number,
  preferences: readonly { category: string | null; channels: string }[],
): RecordWrite {
  return async (tx, now) => {
    const [customer] = await tx.all<{ gone: unknown }>(
      `SELECT ${CUSTOMER_GONE_SQL} AS "gone" FROM ${TABLES.customers} WHERE "tenantId" = ? AND "customerId" = ?`,
      [tenantId, customerId],
    );
    if (!customer) return done([], noRecord('customer'));
    if (Number(customer.gone) === 1) return eraseCustomer(tenantId, customerId)(tx, now);
    const before = await tx.all<{ category: string | null; channelsJson: string }>(
      `SELECT "category", "channelsJson" FROM ${TABLES.communication_preferences} WHERE "tenantId" = ? AND "customerId" = ? ORDER BY "position"`,
      [tenantId, customerId],
    );
    const same =
      before.length === preferences.length &&
      before.every((row, i) => row.category === preferences[i]!.category && row.channelsJson === preferences[i]!.channels);
    if (!same) {
      await tx.run(`DELETE FROM ${TABLES.communication_preferences} WHERE "tenantId" = ? AND "customerId" = ?`, [tenantId, customerId]);
      tx.insertLater(
        `INSERT INTO ${TABLES.communication_preferences} ("tenantId", "customerId", "position", "category", "channelsJson")`,
        preferences.map((p, position) => [tenantId, customerId, position, p.category, p.channels]),
        '',
      );
    }
    await tx.run(`UPDATE ${TABLES.customers} SET "communicationPreferencesHydratedAt" = ? WHERE "tenantId" = ? AND "customerId" = ?`, [
      now,
      tenantId,
      customerId,
    ]);
    return done(same ? [] : change('communicationPreferences', customerId, ['communicationPreferences']));
  };
}

/** The customer's record; a customer the upstream no longer lets us read is erased instead. */
async function hydrateCustomer(job: ClaimedJob, api: OpenApi, reads: HydrationReads): Promise<RecordWrite> {
  const { tenantId } = job;
  const id = Number(job.upstreamKey);
  if (await reads.customerGone(tenantId, id)) return eraseCustomer(tenantId, id);
  const read = await readOr(
    () => api.getCustomer(id),
    () => eraseCustomer(tenantId, id),
  );
  if ('gone' in read) return read.gone;
  const values = customerValues(read.value);
  return async (tx, now) => {
    // A CUSTOMER_DELETED or CUSTOMER_ACCESS_DISABLED committed while the read was under way wins.
    const [row] = await tx.all<{ gone: unknown }>(
      `SELECT ${CUSTOMER_GONE_SQL} AS "gone" FROM ${TABLES.customers} WHERE "tenantId" = ? AND "customerId" = ?`,
      [tenantId, id],
    );
    if (row && Number(row.gone) === 1) return eraseCustomer(tenantId, id)(tx, now);
    const changed = await updateRecord(tx, TABLES.customers, { tenantId, customerId: id }, values, now);
    if (changed === null) return done([], noRecord('customer'));
    return done(
      change(
        'customer',
        id,
        changed.filter((c) => c !== 'personalDataErasedAt' && !(SEARCH_COLUMNS as readonly string[]).includes(c)),
      ),
    );
  };
}

/** The customer's communication preferences, replaced as a whole. */
async function hydrateCommunicationPreferences(job: ClaimedJob, api: OpenApi, reads: HydrationReads): Promise<RecordWrite> {
  const { tenantId } = job;
  const id = Number(job.upstreamKey);
  if (await reads.customerGone(tenantId, id)) return eraseCustomer(tenantId, id);
  const read = await readOr(
    () => api.getCommunicationPreferences(id),
    () => eraseCustomer(tenantId, id),
  );
  if ('gone' in read) return read.gone;
  const preferences = read.value.map((p) => ({
    category: p.messageCategory,
    channels: JSON.stringify(p.channels.map((c) => ({ channel: c.communicationChannel, active: c.active }))),
  }));
  return writePreferences(tenantId, id, preferences);
}

/** The customer area's reads: the customer and their communication preferences. */
export const CUSTOMER_HYDRATORS = {
  customer: hydrateCustomer,
  communication_preferences: hydrateCommunicationPreferences,
} as const satisfies Hydrators;
