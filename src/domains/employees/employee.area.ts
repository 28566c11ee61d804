import type { AreaModule } from '../area-module.js';
import { hydrationTarget } from '../hydration-target.js';
import { EMPLOYEE_HYDRATORS } from './employee.hydrators.js';
import { EMPLOYEE_EVENTS } from './employee.subscriptions.js';

/**
 * Staff records: entityId is the employee. Every event asks for a read of the employee; after
 * EMPLOYEE_DELETED that read erases the personal data instead of calling the upstream.
 */
export const EMPLOYEE_AREA = {
  project: {
    EMPLOYEE_CREATED: (event, records) => records.employees.created(event),
    EMPLOYEE_UPDATED: (event, records) => records.employees.updated(event),
    EMPLOYEE_DELETED: (event, records) => records.employees.deleted(event),
  },
  hydrators: EMPLOYEE_HYDRATORS,
  hydrate: {
    EMPLOYEE_CREATED: (event) => [hydrationTarget('employee', event.entityId)],
    EMPLOYEE_UPDATED: (event) => [hydrationTarget('employee', event.entityId)],
    EMPLOYEE_DELETED: (event) => [hydrationTarget('employee', event.entityId)],
  },
  reconcile: {},
  subscribe: {
    EMPLOYEE_CREATED: EMPLOYEE_EVENTS,
    EMPLOYEE_UPDATED: EMPLOYEE_EVENTS,
    EMPLOYEE_DELETED: EMPLOYEE_EVENTS,
  },
} as const satisfies AreaModule<'employees'>;
