import { Field, ID, ObjectType } from 'type-graphql';
import { Column, Entity, Index } from 'typeorm';
import { IdColumn, TimeColumn } from '../../db/columns.js';
import { TenantRecord } from '../../db/tenant-record.js';
import { PersonalData } from '../access/personal-data.js';
import { TABLES } from '../../db/tables.js';

/**
 * A staff member of an operator (EMPLOYEE_*). Created by the first event about it; never removed
 * (EMPLOYEE_DELETED leaves a tombstone). Names, role, contact and competences come from the Open API
 * (hydration, `GET /v1/employees/{id}`); the personal ones are erased again once the employee is
 * deleted or can no longer be read.
 */
@ObjectType({
  simpleResolvers: true,
  description:
    'A staff member of an operator (trainer, studio manager, service staff...), as far as the webhooks (EMPLOYEE_*) and the Open API have told us. ' +
    'Deleted employees stay as tombstones (`deleted: true`) without their personal data.',
})
@Entity(TABLES.employees)
@Index('employees_key', ['tenantId', 'employeeId'], { unique: true })
@Index('employees_studio', ['studioId', 'id'])
export class Employee extends TenantRecord {
  @Field(() => ID, { description: 'The upstream employee id (unique within the operator): the `entityId` of EMPLOYEE_*.' })
  @IdColumn()
  employeeId!: number;

  @Field(() => Date, { nullable: true, description: 'When the employee was created upstream (EMPLOYEE_CREATED), if that event arrived.' })
  @TimeColumn({ nullable: true })
  createdAt!: Date | null;

  @Field(() => Date, { nullable: true, description: "When the employee's data last changed upstream (the latest EMPLOYEE_UPDATED)." })
  @TimeColumn({ nullable: true })
  updatedAt!: Date | null;

  /** Set means deleted: the record stays as a tombstone. */
  @Field(() => Date, { nullable: true, description: 'When the employee was deleted upstream (EMPLOYEE_DELETED); null while not deleted.' })
  @TimeColumn({ nullable: true })
  deletedAt!: Date | null;

  // -------------------------------------------------------------------------------------------
  // Hydrated from the Open API (`GET /v1/employees/{id}`); null until the first hydration. The
  // personal ones (names, initials, gender, contact) are nulled again when the upstream answers
  // 404/403 or EMPLOYEE_DELETED arrived (EMPLOYEE_PERSONAL_COLUMNS in employee.hydrators.ts).
  // -------------------------------------------------------------------------------------------

  @PersonalData()
  @Field(() => String, {
    nullable: true,
    description: 'First name. Personal data: null until hydrated, and again once the employee is deleted or gone.',
  })
  @Column({ type: 'text', nullable: true })
  firstName!: string | null;

  @PersonalData()
  @Field(() => String, {
    nullable: true,
    description: 'Last name. Personal data: null until hydrated, and again once the employee is deleted or gone.',
  })
  @Column({ type: 'text', nullable: true })
  lastName!: string | null;

  @PersonalData()
  @Field(() => String, {
    nullable: true,
    description:
      'The initials the studio shows for the employee (`employeeInitials`, e.g. "AS"). Personal data: null until hydrated, and again once the employee is deleted or gone.',
  })
  @Column({ type: 'text', nullable: true })
  employeeInitials!: string | null;

  @PersonalData()
  @Field(() => String, {
    nullable: true,
    description:
      'MALE, FEMALE or UNISEX, as the operator recorded it. Personal data: null until hydrated, and again once the employee is deleted or gone.',
  })
  @Column({ type: 'text', nullable: true })
  gender!: string | null;

  @PersonalData()
  @Field(() => String, {
    nullable: true,
    description:
      'E-mail address. Personal data: null until hydrated or when none is recorded, and again once the employee is deleted or gone.',
  })
  @Column({ type: 'text', nullable: true })
  email!: string | null;

  @PersonalData()
  @Field(() => String, {
    nullable: true,
    description:
      'Phone number, as entered upstream. Personal data: null until hydrated or when none is recorded, and again once the employee is deleted or gone.',
  })
  @Column({ type: 'text', nullable: true })
  phoneNumber!: string | null;

  /** Not personal: the job, not the person. Kept on the tombstone. */
  @Field(() => String, {
    nullable: true,
    description:
      "The employee's role: STUDIO_OWNER, STUDIO_MANAGER, TRAINER, SERVICE_EMPLOYEE, ADMINISTRATION_OR_FINANCE or MARKETING (new values may appear). " +
      'From the Open API; null until hydrated or when the operator set none.',
  })
  @Column({ type: 'text', nullable: true })
  businessRole!: string | null;

  /** `employeeCompetences[]` as JSON `[{id, name}]`; exposed as `competences` (employee.resolver.ts). */
  @Column({ type: 'text', nullable: true })
  competencesJson!: string | null;

  @Field(() => Date, { nullable: true, description: 'When the fields above were last read from the upstream Open API; null if never.' })
  @TimeColumn({ nullable: true })
  hydratedAt!: Date | null;

  @Field(() => Date, {
    nullable: true,
    description:
      'When this service erased the personal data because the upstream deleted the employee or no longer lets it be read (404/403); null while it holds none erased. ' +
      'The record itself stays, as a tombstone.',
  })
  @TimeColumn({ nullable: true })
  personalDataErasedAt!: Date | null;
}
