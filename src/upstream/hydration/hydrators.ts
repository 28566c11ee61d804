import type { Param, SqlTx } from '../../db/sql-writer.js';
import { SEARCH_COLUMNS, searchColumns } from '../../domains/customers/customer-search.js';
import { unreachable } from '../../events/event-catalog.js';
import { OpenApiError, type OpenApi, type UpstreamContract, type UpstreamCustomer, type UpstreamEmployee } from '../open-api.js';
import type { HydrationKind } from './hydration-job.entity.js';
import type { HydrationTarget, JobParams } from './hydration-targets.js';
import { updateRecord, type HydratedRecordKind, type RecordChange } from './record-writes.js';

/** A claimed job, as the runner hands it over. */
export interface ClaimedJob {
  readonly id: number;
  readonly tenantId: number;
  readonly studioId: number;
  readonly kind: HydrationKind;
  readonly upstreamKey: string;
  readonly params: JobParams | null;
  /** Including this one. */
  readonly attempts: number;
  /** The `seq` of the latest event that asked for the job. */
  readonly lastSeq: number;
}

/** What a finished read writes, inside the transaction that also marks the job done. */
export interface WriteResult {
  readonly changes: readonly RecordChange[];
  /** Something worth telling an operator (the upstream no longer has the record, ...). */
  readonly note: string | null;
  /** Further reads this answer asked for (a booking names its class). */
  readonly followUps: readonly HydrationTarget[];
}

export type RecordWrite = (tx: SqlTx, now: number) => Promise<WriteResult>;

/** Reads hydration needs from our own records before it calls the upstream. */
export interface HydrationReads {
  /**
   * True when CUSTOMER_DELETED or CUSTOMER_ACCESS_DISABLED arrived for the customer: the upstream
   * would answer 404/403, so it is not read again, only erased.
   */
  customerGone(tenantId: number, customerId: number): Promise<boolean>;
  /** The class of a slot record, when the job does not carry it. */
  slotClassId(tenantId: number, slotId: number): Promise<number | null>;
  /** True when EMPLOYEE_DELETED arrived for the employee: it is not read again, only erased. */
  employeeDeleted(tenantId: number, employeeId: number): Promise<boolean>;
}

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

/**
 * Fills the customer's idle periods and additional modules from the contract list, matched by id
 * under the contract the events named. A pause the list no longer has was cancelled (the upstream
 * lists those in force only) and a module it no longer has was deleted: their records keep what
 * they had. Returns, per contract, which of its lists changed.
 */
async function hydrateContractParts(
  tx: SqlTx,
  tenantId: number,
  customerId: number,
  contracts: readonly UpstreamContract[],
  now: number,
): Promise<Map<number, string[]>> {
  const changed = new Map<number, string[]>();
  const note = (contractId: number, list: string) => {
    const lists = changed.get(contractId) ?? [];
    if (!lists.includes(list)) lists.push(list);
    changed.set(contractId, lists);
  };
  const byId = new Map(contracts.map((c) => [c.id, c]));
  const pauses = await tx.all<{ idlePeriodId: number | string; contractId: number | string }>(
    `SELECT "idlePeriodId", "contractId" FROM contract_idle_periods WHERE "tenantId" = ? AND "customerId" = ?`,
    [tenantId, customerId],
  );
  for (const pause of pauses) {
    const idlePeriodId = Number(pause.idlePeriodId);
    const upstream = byId.get(Number(pause.contractId))?.idlePeriods.find((p) => p.id === idlePeriodId);
    if (!upstream) continue;
    const columns = await updateRecord(
      tx,
      'contract_idle_periods',
      { tenantId, idlePeriodId },
      {
        startDate: upstream.startDate,
        endDate: upstream.endDate,
        unlimited: upstream.unlimited,
      },
      now,
    );
    if (columns && columns.length > 0) note(Number(pause.contractId), 'idlePeriods');
  }
  const modules = await tx.all<{ moduleContractId: number | string; contractId: number | string }>(
    `SELECT "moduleContractId", "contractId" FROM contract_additional_modules WHERE "tenantId" = ? AND "customerId" = ?`,
    [tenantId, customerId],
  );
  for (const module of modules) {
    const moduleContractId = Number(module.moduleContractId);
    const upstream = byId.get(Number(module.contractId))?.additionalModules.find((m) => m.moduleContractId === moduleContractId);
    if (!upstream) continue;
    const columns = await updateRecord(
      tx,
      'contract_additional_modules',
      { tenantId, moduleContractId },
      {
        rateName: upstream.rateName,
        contractStatus: upstream.status,
        startDate: upstream.startDate,
        endDate: upstream.endDate,
        cancelled: upstream.cancelled,
        cancellationDate: upstream.cancellationDate,
        priceAmount: upstream.price?.amount ?? null,
        priceCurrency: upstream.price?.currency ?? null,
      },
      now,
    );
    if (columns && columns.length > 0) note(Number(module.contractId), 'additionalModules');
  }
  return changed;
}

const done = (changes: RecordChange[] = [], note: string | null = null, followUps: HydrationTarget[] = []): WriteResult => ({
  changes,
  note,
  followUps,
});
const change = (record: HydratedRecordKind, entityId: number, changed: readonly string[] | null, erased = false): RecordChange[] =>
  changed && changed.length > 0 ? [{ record, entityId, changed, erased }] : [];
const notFound = (what: string) =>
  `the upstream answered that ${what} does not exist (404) or may not be read (403); the record stays as the events made it`;
const noRecord = (what: string) => `no ${what} record here to fill`;

/** Runs `read`; a 404/403 becomes `onGone()` instead of an error. */
async function readOr<T>(
  read: () => Promise<T>,
  onGone: (error: OpenApiError) => RecordWrite,
): Promise<{ value: T } | { gone: RecordWrite }> {
  try {
    return { value: await read() };
  } catch (error) {
    if (error instanceof OpenApiError && error.gone) return { gone: onGone(error) };
    throw error;
  }
}

const ms = (date: Date | null): number | null => (date === null ? null : date.getTime());

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
      `SELECT ${CUSTOMER_PERSONAL_COLUMNS.map((c) => `"${c}"`).join(', ')}, "personalDataErasedAt" FROM customers WHERE "tenantId" = ? AND "customerId" = ?`,
      [tenantId, customerId],
    );
    if (!row) return done([], noRecord('customer'));
    const held = CUSTOMER_PERSONAL_COLUMNS.filter((c) => row[c] !== null && row[c] !== undefined);
    const preferences = await tx.run(`DELETE FROM communication_preferences WHERE "tenantId" = ? AND "customerId" = ?`, [
      tenantId,
      customerId,
    ]);
    const erased = [...held, ...(preferences > 0 ? ['communicationPreferences'] : [])];
    if (erased.length === 0) return done([], 'personal data erased: the customer is deleted or can no longer be read');
    await tx.run(
      `UPDATE customers SET ${[...CUSTOMER_PERSONAL_COLUMNS, ...SEARCH_COLUMNS].map((c) => `"${c}" = NULL`).join(', ')}, "personalDataErasedAt" = ? WHERE "tenantId" = ? AND "customerId" = ?`,
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
      `SELECT ${CUSTOMER_GONE_SQL} AS "gone" FROM customers WHERE "tenantId" = ? AND "customerId" = ?`,
      [tenantId, customerId],
    );
    if (!customer) return done([], noRecord('customer'));
    if (Number(customer.gone) === 1) return eraseCustomer(tenantId, customerId)(tx, now);
    const before = await tx.all<{ category: string | null; channelsJson: string }>(
      `SELECT "category", "channelsJson" FROM communication_preferences WHERE "tenantId" = ? AND "customerId" = ? ORDER BY "position"`,
      [tenantId, customerId],
    );
    const same =
      before.length === preferences.length &&
      before.every((row, i) => row.category === preferences[i]!.category && row.channelsJson === preferences[i]!.channels);
    if (!same) {
      await tx.run(`DELETE FROM communication_preferences WHERE "tenantId" = ? AND "customerId" = ?`, [tenantId, customerId]);
      tx.insertLater(
        `INSERT INTO communication_preferences ("tenantId", "customerId", "position", "category", "channelsJson")`,
        preferences.map((p, position) => [tenantId, customerId, position, p.category, p.channels]),
        '',
      );
    }
    await tx.run(`UPDATE customers SET "communicationPreferencesHydratedAt" = ? WHERE "tenantId" = ? AND "customerId" = ?`, [
      now,
      tenantId,
      customerId,
    ]);
    return done(same ? [] : change('communicationPreferences', customerId, ['communicationPreferences']));
  };
}

/**
 * Personal data of an employee: erased when the upstream deleted the employee or no longer lets it
 * be read (404/403). The business role and the competences describe the job, not the person: they
 * stay on the tombstone.
 */
export const EMPLOYEE_PERSONAL_COLUMNS = ['firstName', 'lastName', 'employeeInitials', 'gender', 'email', 'phoneNumber'] as const;

function employeeValues(e: UpstreamEmployee): Record<string, Param> {
  return {
    firstName: e.firstName,
    lastName: e.lastName,
    employeeInitials: e.employeeInitials,
    gender: e.gender,
    email: e.email,
    phoneNumber: e.phoneNumber,
    businessRole: e.businessRole,
    competencesJson: JSON.stringify(e.employeeCompetences.map((c) => ({ id: c.id, name: c.name }))),
    personalDataErasedAt: null,
  };
}

/** Nulls the employee's personal data; reports a change only when something was there to erase. */
export function eraseEmployee(tenantId: number, employeeId: number): RecordWrite {
  return async (tx, now) => {
    const note = 'personal data erased: the employee is deleted or can no longer be read';
    const [row] = await tx.all<Record<string, unknown>>(
      `SELECT ${EMPLOYEE_PERSONAL_COLUMNS.map((c) => `"${c}"`).join(', ')} FROM employees WHERE "tenantId" = ? AND "employeeId" = ?`,
      [tenantId, employeeId],
    );
    if (!row) return done([], noRecord('employee'));
    const held = EMPLOYEE_PERSONAL_COLUMNS.filter((c) => row[c] !== null && row[c] !== undefined);
    if (held.length === 0) return done([], note);
    await tx.run(
      `UPDATE employees SET ${EMPLOYEE_PERSONAL_COLUMNS.map((c) => `"${c}" = NULL`).join(', ')}, "personalDataErasedAt" = ? WHERE "tenantId" = ? AND "employeeId" = ?`,
      [now, tenantId, employeeId],
    );
    return done(change('employee', employeeId, held, true), note);
  };
}

/**
 * Reads what `job` names from the Open API and returns how to write it. A 404/403 is an answer, not
 * a failure: a customer's personal data is erased, anything else keeps what the events made and the
 * job notes it. Every other failure is thrown (the runner retries it).
 */
export async function hydrate(job: ClaimedJob, api: OpenApi, reads: HydrationReads): Promise<RecordWrite> {
  const { tenantId } = job;
  const id = Number(job.upstreamKey);
  const kind = job.kind;
  switch (kind) {
    case 'customer': {
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
          `SELECT ${CUSTOMER_GONE_SQL} AS "gone" FROM customers WHERE "tenantId" = ? AND "customerId" = ?`,
          [tenantId, id],
        );
        if (row && Number(row.gone) === 1) return eraseCustomer(tenantId, id)(tx, now);
        const changed = await updateRecord(tx, 'customers', { tenantId, customerId: id }, values, now);
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
    case 'communication_preferences': {
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
    case 'contracts': {
      const read = await readOr(
        () => api.listContracts(id),
        () => async () => done([], notFound(`customer ${id} (for its contracts)`)),
      );
      if ('gone' in read) return read.gone;
      const contracts = read.value;
      return async (tx, now) => {
        const ours = await tx.all<{ contractId: number | string }>(
          `SELECT "contractId" FROM contracts WHERE "tenantId" = ? AND "customerId" = ?`,
          [tenantId, id],
        );
        const changes: RecordChange[] = [];
        const missing: number[] = [];
        for (const { contractId: raw } of ours) {
          const contractId = Number(raw);
          const upstream = contracts.find((c) => c.id === contractId);
          if (!upstream) {
            missing.push(contractId);
            continue;
          }
          const changed = await updateRecord(
            tx,
            'contracts',
            { tenantId, contractId },
            {
              rateName: upstream.rateName,
              contractStatus: upstream.contractStatus,
              signedOn: upstream.createdDate,
              startDate: upstream.startDate,
              endDate: upstream.endDate,
              cancelled: upstream.cancelled,
              cancellationDate: upstream.cancellationDate,
              termValue: upstream.term?.periodValue ?? null,
              termUnit: upstream.term?.periodUnit ?? null,
              basePriceAmount: upstream.basePrice?.amount ?? null,
              basePriceCurrency: upstream.basePrice?.currency ?? null,
              currentPriceAmount: upstream.currentPrice?.amount ?? null,
              currentPriceCurrency: upstream.currentPrice?.currency ?? null,
            },
            now,
          );
          changes.push(...change('contract', contractId, changed));
        }
        // The contracts' pauses and modules: reported as a change of their contract ('idlePeriods', 'additionalModules').
        const parts = await hydrateContractParts(tx, tenantId, id, contracts, now);
        for (const [contractId, changed] of parts) {
          const existing = changes.find((c) => c.record === 'contract' && c.entityId === contractId);
          if (existing) changes.splice(changes.indexOf(existing), 1, { ...existing, changed: [...existing.changed, ...changed] });
          else changes.push(...change('contract', contractId, changed));
        }
        return done(changes, missing.length > 0 ? `not in the customer's contract list upstream: contract ${missing.join(', ')}` : null);
      };
    }
    case 'class_booking': {
      const read = await readOr(
        () => api.getClassBooking(id),
        () => async () => done([], notFound(`class booking ${id}`)),
      );
      if ('gone' in read) return read.gone;
      const b = read.value;
      return async (tx, now) => {
        const changed = await updateRecord(
          tx,
          'class_bookings',
          { tenantId, bookingId: id },
          {
            customerId: b.customerId,
            classSlotId: b.classSlotId,
            classId: b.classId,
            bookingStatus: b.bookingStatus,
            classSlotStatus: b.classSlotStatus,
            participantStatus: b.participantStatus,
          },
          now,
        );
        if (changed === null) return done([], noRecord('class booking'));
        // The booking names its class: make sure the class is known (read once, not per booking).
        return done(change('classBooking', id, changed), null, [{ kind: 'class', key: String(b.classId), params: null, mode: 'ensure' }]);
      };
    }
    case 'class_slot': {
      const classId = job.params?.classId ?? (await reads.slotClassId(tenantId, id));
      if (classId === null || classId === undefined) return async () => done([], noRecord('class slot'));
      const read = await readOr(
        () => api.getClassSlot(classId, id),
        () => async () => done([], notFound(`class slot ${id} of class ${classId}`)),
      );
      if ('gone' in read) return read.gone;
      const s = read.value;
      return async (tx, now) => {
        const changed = await updateRecord(
          tx,
          'class_slots',
          { tenantId, slotId: id },
          {
            startAt: ms(s.startDateTime),
            endAt: ms(s.endDateTime),
            maxParticipants: s.maxParticipants,
            bookedParticipants: s.bookedParticipants,
            waitingListParticipants: s.waitingListParticipants,
            instructorNames: JSON.stringify(s.instructors),
            locationId: s.location?.id ?? null,
            locationName: s.location?.name ?? null,
          },
          now,
        );
        return changed === null ? done([], noRecord('class slot')) : done(change('classSlot', id, changed));
      };
    }
    case 'class': {
      const read = await readOr(
        () => api.getClass(id),
        () => async () => done([], notFound(`class ${id}`)),
      );
      if ('gone' in read) return read.gone;
      const c = read.value;
      const values = { title: c.title, type: c.type, durationMinutes: c.duration, category: c.category, bookable: c.bookable };
      return async (tx, now) => {
        // Classes exist only through hydration: the first read creates the row.
        tx.runLater(
          `INSERT INTO classes ("tenantId", "studioId", "classId", "title", "type", "durationMinutes", "category", "bookable", "hydratedAt") ` +
            `VALUES (?, ?, ?, NULL, NULL, NULL, NULL, NULL, ?) ON CONFLICT ("tenantId", "classId") DO NOTHING`,
          [tenantId, job.studioId, id, now],
        );
        const changed = await updateRecord(tx, 'classes', { tenantId, classId: id }, values, now);
        return done(change('class', id, changed));
      };
    }
    case 'appointment_booking': {
      const read = await readOr(
        () => api.getAppointmentBooking(id),
        () => async () => done([], notFound(`appointment booking ${id}`)),
      );
      if ('gone' in read) return read.gone;
      const b = read.value;
      return async (tx, now) => {
        const changed = await updateRecord(
          tx,
          'appointment_bookings',
          { tenantId, bookingId: id },
          {
            customerId: b.customerId,
            title: b.title,
            startAt: ms(b.startDateTime),
            endAt: ms(b.endDateTime),
            bookingStatus: b.bookingStatus,
            appointmentStatus: b.appointmentStatus,
            participantStatus: b.participantStatus,
          },
          now,
        );
        return changed === null ? done([], noRecord('appointment booking')) : done(change('appointmentBooking', id, changed));
      };
    }
    case 'device': {
      const read = await readOr(
        () => api.listDevices(),
        () => async () => done([], notFound('the device list')),
      );
      if ('gone' in read) return read.gone;
      const device = read.value.find((d) => d.id === id);
      if (!device)
        return async () => done([], `device ${id} is not in the studio's device list upstream; the record stays as the events made it`);
      return async (tx, now) => {
        const changed = await updateRecord(
          tx,
          'devices',
          { tenantId, deviceId: id },
          { name: device.name, model: device.model, active: device.active },
          now,
        );
        return changed === null ? done([], noRecord('device')) : done(change('device', id, changed));
      };
    }
    case 'debt_collection_run': {
      const read = await readOr(
        () => api.getDebtCollectionRun(id),
        () => async () => done([], notFound(`debt-collection run ${id}`)),
      );
      if ('gone' in read) return read.gone;
      const r = read.value;
      return async (tx, now) => {
        const changed = await updateRecord(
          tx,
          'debt_collection_runs',
          { tenantId, runId: id },
          {
            status: r.status,
            collectionDate: r.collectionDate,
            collectionType: r.debtCollectionType,
            origin: r.origin,
          },
          now,
        );
        return changed === null ? done([], noRecord('debt-collection run')) : done(change('debtCollectionRun', id, changed));
      };
    }
    case 'tax_advisor_export': {
      const read = await readOr(
        () => api.getTaxAdvisorExport(id),
        () => async () => done([], notFound(`tax-advisor export ${id}`)),
      );
      if ('gone' in read) return read.gone;
      const e = read.value;
      return async (tx, now) => {
        // The answer's downloadUrl expires within 15 minutes: it is never stored.
        const changed = await updateRecord(
          tx,
          'tax_advisor_exports',
          { tenantId, exportId: id },
          {
            fromDate: e.fromDate,
            toDate: e.toDate,
            fileFormat: e.exportFileFormat,
            exportFormat: e.exportFormat,
          },
          now,
        );
        return changed === null ? done([], noRecord('tax-advisor export')) : done(change('taxAdvisorExport', id, changed));
      };
    }
    case 'studio_information': {
      // The studio's Open API key selects the studio: the answer is about the job's studio, whatever
      // id the event named (the job's key); a different id is noted, and the registry learns the real one.
      const read = await readOr(
        () => api.getStudioInformation(),
        () => async () => done([], notFound('the studio information')),
      );
      if ('gone' in read) return read.gone;
      const info = read.value;
      const values = {
        upstreamStudioId: info.studioId,
        openingHoursJson: JSON.stringify(
          info.openingHours.map((h) => ({
            dayOfWeekFrom: h.dayOfWeekFrom,
            dayOfWeekTo: h.dayOfWeekTo,
            timeFrom: h.timeFrom,
            timeTo: h.timeTo,
          })),
        ),
        closingHoursJson: JSON.stringify(
          info.closingHours.map((c) => ({ reason: c.reason, from: ms(c.dateTimeFrom), to: ms(c.dateTimeTo) })),
        ),
      };
      const note =
        info.studioId === id
          ? null
          : `the studio's Open API key reads upstream studio ${info.studioId}, but the event named studio ${id}: the studio's record took the answer, and events naming ${id} no longer change it`;
      return async (tx, now) => {
        const changed = await updateRecord(tx, 'studios', { id: job.studioId }, values, now);
        if (changed === null) return done([], noRecord('studio'));
        const fields = changed.map((c) => (c === 'openingHoursJson' ? 'openingHours' : c === 'closingHoursJson' ? 'closingHours' : c));
        return done(change('studio', info.studioId, fields), note);
      };
    }
    case 'employee': {
      if (await reads.employeeDeleted(tenantId, id)) return eraseEmployee(tenantId, id);
      const read = await readOr(
        () => api.getEmployee(id),
        () => eraseEmployee(tenantId, id),
      );
      if ('gone' in read) return read.gone;
      const values = employeeValues(read.value);
      return async (tx, now) => {
        // An EMPLOYEE_DELETED committed while the read was under way wins.
        const [row] = await tx.all<{ deletedAt: unknown }>(`SELECT "deletedAt" FROM employees WHERE "tenantId" = ? AND "employeeId" = ?`, [
          tenantId,
          id,
        ]);
        if (row && row.deletedAt !== null) return eraseEmployee(tenantId, id)(tx, now);
        const changed = await updateRecord(tx, 'employees', { tenantId, employeeId: id }, values, now);
        if (changed === null) return done([], noRecord('employee'));
        return done(
          change(
            'employee',
            id,
            changed.filter((c) => c !== 'personalDataErasedAt'),
          ),
        );
      };
    }
    default:
      return unreachable(kind);
  }
}
