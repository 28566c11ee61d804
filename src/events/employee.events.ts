import type { AreaDeclarations } from './event-declaration.js';

/** Staff records (the sister platform's types). entityId: the upstream employee id. */
export const EMPLOYEE_EVENTS = {
  EMPLOYEE_CREATED: {
    area: 'employees',
    entity: 'employee',
    content: {},
    description: 'An employee (staff member: trainer, studio manager, service staff...) was created; content is empty.',
    subscription: { field: 'employeeCreated', happened: 'An employee was created', records: 'the employee' },
  },
  EMPLOYEE_UPDATED: {
    area: 'employees',
    entity: 'employee',
    content: {},
    description: "An employee's data (such as name, role, contact details or competences) changed; content is empty.",
    subscription: { field: 'employeeUpdated', happened: "An employee's data changed", records: 'the employee' },
  },
  EMPLOYEE_DELETED: {
    area: 'employees',
    entity: 'employee',
    content: {},
    description: 'The employee was deleted upstream; content is empty.',
    subscription: { field: 'employeeDeleted', happened: 'An employee was deleted', records: 'the employee (now a tombstone)' },
  },
} as const satisfies AreaDeclarations<'employees'>;
