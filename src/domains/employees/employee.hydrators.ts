import type { Param } from '../../db/sql-writer.js';
import type { OpenApi, UpstreamEmployee } from '../../upstream/open-api.js';
import { change, done, noRecord, readOr, type ClaimedJob, type HydrationReads, type Hydrators, type RecordWrite } from '../hydrator.js';
import { updateRecord } from '../record-writes.js';
import { TABLES } from '../../db/tables.js';

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
      `SELECT ${EMPLOYEE_PERSONAL_COLUMNS.map((c) => `"${c}"`).join(', ')} FROM ${TABLES.employees} WHERE "tenantId" = ? AND "employeeId" = ?`,
      [tenantId, employeeId],
    );
    if (!row) return done([], noRecord('employee'));
    const held = EMPLOYEE_PERSONAL_COLUMNS.filter((c) => row[c] !== null && row[c] !== undefined);
    if (held.length === 0) return done([], note);
    await tx.run(
      `UPDATE ${TABLES.employees} SET ${EMPLOYEE_PERSONAL_COLUMNS.map((c) => `"${c}" = NULL`).join(', ')}, "personalDataErasedAt" = ? WHERE "tenantId" = ? AND "employeeId" = ?`,
      [now, tenantId, employeeId],
    );
    return done(change('employee', employeeId, held, true), note);
  };
}

/** The employee's record; a deleted employee, or one the upstream no longer lets us read, is erased instead. */
async function hydrateEmployee(job: ClaimedJob, api: OpenApi, reads: HydrationReads): Promise<RecordWrite> {
  const { tenantId } = job;
  const id = Number(job.upstreamKey);
  if (await reads.employeeDeleted(tenantId, id)) return eraseEmployee(tenantId, id);
  const read = await readOr(
    () => api.getEmployee(id),
    () => eraseEmployee(tenantId, id),
  );
  if ('gone' in read) return read.gone;
  const values = employeeValues(read.value);
  return async (tx, now) => {
    // An EMPLOYEE_DELETED committed while the read was under way wins.
    const [row] = await tx.all<{ deletedAt: unknown }>(
      `SELECT "deletedAt" FROM ${TABLES.employees} WHERE "tenantId" = ? AND "employeeId" = ?`,
      [tenantId, id],
    );
    if (row && row.deletedAt !== null) return eraseEmployee(tenantId, id)(tx, now);
    const changed = await updateRecord(tx, TABLES.employees, { tenantId, employeeId: id }, values, now);
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

/** The employee area's read: the employee. */
export const EMPLOYEE_HYDRATORS = {
  employee: hydrateEmployee,
} as const satisfies Hydrators;
