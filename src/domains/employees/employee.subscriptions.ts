import { Field, ObjectType } from 'type-graphql';
import { RecordSubscriptionArgs } from '../../api/subscription.args.js';
import { EventRecord } from '../events/event-record.entity.js';
import { EVENT_FIELD, byEntity, family, ownedBy, recordAfter } from '../subscription-family.js';
import { Employee } from './employee.entity.js';

@ObjectType({ simpleResolvers: true, description: 'An employee created, changed or deleted, with the employee.' })
export class EmployeeEventPayload {
  @Field(() => EventRecord, EVENT_FIELD) event!: EventRecord;
  @Field(() => Employee, recordAfter('The employee')) employee!: Employee | null;
}

/** An employee's events (entityId the employee). */
export const EMPLOYEE_EVENTS = family({
  payload: EmployeeEventPayload,
  args: RecordSubscriptionArgs,
  select: () => ({}),
  load: async (event, dataSource) => ({ employee: await byEntity(Employee, 'employeeId')(event, dataSource) }),
  visible: ({ employee }, scope) => ({ employee: ownedBy(employee, scope) }),
  // Staff records are the operator's (member-access.ts refuses the fields to members).
  member: 'forbidden',
});
