import { Field, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import { IdColumn, TimeColumn } from '../../db/columns.js';
import { HYDRATION_KINDS, type HydrationKind } from '../../domains/hydration-target.js';
import { TABLES } from '../../db/tables.js';

export { HYDRATION_KINDS, type HydrationKind };

export const HydrationKindEnum = Object.fromEntries(HYDRATION_KINDS.map((k) => [k.toUpperCase(), k])) as {
  readonly [K in HydrationKind as Uppercase<K>]: K;
};
registerEnumType(HydrationKindEnum, {
  name: 'HydrationJobKind',
  description: 'What a hydration job reads from the upstream Open API.',
  valuesConfig: {
    CUSTOMER: { description: 'A customer (`GET /v1/customers/{id}`); upstream key: the customer id.' },
    COMMUNICATION_PREFERENCES: { description: "A customer's communication preferences; upstream key: the customer id." },
    CONTRACTS: { description: "A customer's contracts (one list read for all of them); upstream key: the customer id." },
    CLASS_BOOKING: { description: 'A class booking; upstream key: the booking id.' },
    CLASS_SLOT: { description: 'A class slot; upstream key: the slot id.' },
    CLASS: { description: 'A class; upstream key: the class id.' },
    APPOINTMENT_BOOKING: { description: 'An appointment booking; upstream key: the booking id.' },
    DEVICE: { description: "A device (from the studio's device list); upstream key: the device id." },
    DEBT_COLLECTION_RUN: { description: 'A debt-collection run; upstream key: the run id.' },
    TAX_ADVISOR_EXPORT: { description: 'A tax-advisor export; upstream key: the export id.' },
    STUDIO_INFORMATION: {
      description:
        "A studio's information and opening hours (`GET /v1/studios/information`, read with that studio's key); upstream key: the upstream studio id the event named.",
    },
    EMPLOYEE: { description: 'An employee (`GET /v1/employees/{id}`); upstream key: the employee id.' },
  },
});

/**
 * queued: due at `dueAt`; running: claimed by an instance until `leaseUntil`; retrying: failed,
 * due again at `dueAt`; parked: failed too often, waits for an operator (or a new event);
 * done: the record holds what the upstream said (or the upstream said it is gone).
 */
export const HYDRATION_JOB_STATES = ['queued', 'running', 'retrying', 'parked', 'done'] as const;
export type HydrationJobState = (typeof HYDRATION_JOB_STATES)[number];

export const HydrationJobStateEnum = Object.fromEntries(HYDRATION_JOB_STATES.map((s) => [s.toUpperCase(), s])) as {
  readonly [S in HydrationJobState as Uppercase<S>]: S;
};
registerEnumType(HydrationJobStateEnum, {
  name: 'HydrationJobState',
  description: 'Where a hydration job stands.',
  valuesConfig: {
    QUEUED: { description: 'Waiting to run at `nextAttemptAt` (a short delay lets a burst of events about one record share one read).' },
    RUNNING: { description: 'An instance is reading the upstream for it now.' },
    RETRYING: { description: 'The last attempt failed (see `lastError`); it runs again at `nextAttemptAt`, with exponential backoff.' },
    PARKED: { description: 'Failed `attempts` times in a row; waits for `retryHydrationJob` (or a new event about the record).' },
    DONE: { description: 'Finished: the record holds what the upstream answered, or `note` says why not.' },
  },
});

/**
 * A durable request to read one upstream thing and write it into our records. One row per
 * (tenant, kind, upstream key): new events about the same thing coalesce into it (`version` counts
 * them), so a burst costs one read, and an event arriving while the job runs makes it run again.
 */
@ObjectType({ description: 'A durable job that reads one record from the upstream Open API and fills ours with it. Only admins see jobs.' })
@Entity(TABLES.hydration_jobs)
@Index('hydration_jobs_key', ['tenantId', 'kind', 'upstreamKey'], { unique: true })
@Index('hydration_jobs_due', ['state', 'dueAt'])
@Index('hydration_jobs_studio', ['studioId', 'state'])
export class HydrationJob {
  @Field(() => ID, { description: 'The job id.' })
  @PrimaryGeneratedColumn()
  id!: number;

  @Field(() => Int, { description: 'The operator (tenant).' })
  @Column({ type: 'integer' })
  tenantId!: number;

  /** The studio of the latest event that asked for it: whose Open API key reads it. */
  @Field(() => ID, { description: 'The studio whose Open API key is used: the one that delivered the latest event asking for this job.' })
  @Column({ type: 'integer' })
  studioId!: number;

  @Field(() => HydrationKindEnum, { description: 'What the job reads.' })
  @Column({ type: 'varchar', length: 32 })
  kind!: HydrationKind;

  /** The upstream id the job is about, as text (see the kinds). */
  @Field({ description: 'The upstream id it reads (see `kind`).' })
  @Column({ type: 'varchar', length: 64 })
  upstreamKey!: string;

  /** JSON: what the read needs besides the key (the class id of a slot). */
  @Column({ type: 'text', nullable: true })
  params!: string | null;

  @Field(() => HydrationJobStateEnum, { description: 'Where the job stands.' })
  @Column({ type: 'varchar', length: 16 })
  state!: HydrationJobState;

  /** Bumped each time the scanner queues the job again (events read together count once); a run that started from an older version runs again. */
  @Column({ type: 'integer' })
  version!: number;

  /** The `version` the current (or last) run started from. */
  @Column({ type: 'integer', nullable: true })
  runVersion!: number | null;

  @Field(() => Int, { description: 'Attempts since the job last succeeded (reset when it is done or retried by an admin).' })
  @Column({ type: 'integer' })
  attempts!: number;

  @Field({ description: 'When it is due (queued, retrying); for other states, when it last became due.' })
  @TimeColumn()
  dueAt!: Date;

  /** The instance running it, and until when the claim holds (renewed while it runs). */
  @Column({ type: 'varchar', length: 64, nullable: true })
  leaseOwner!: string | null;

  @TimeColumn({ nullable: true })
  leaseUntil!: Date | null;

  @Field(() => String, {
    nullable: true,
    description: 'Why the last attempt failed (the upstream status and message); null after a success.',
  })
  @Column({ type: 'text', nullable: true })
  lastError!: string | null;

  @Field(() => String, {
    nullable: true,
    description: 'What the last successful run noticed, e.g. that the upstream no longer has the record.',
  })
  @Column({ type: 'text', nullable: true })
  note!: string | null;

  /** Event-log seq of the first and of the latest event that asked for the job. */
  @Field(() => ID, { description: 'The `seq` of the first event that asked for this job.' })
  @IdColumn()
  firstSeq!: number;

  @Field(() => ID, { description: 'The `seq` of the latest event that asked for this job.' })
  @IdColumn()
  lastSeq!: number;

  @Field(() => Int, { description: 'Successful runs so far.' })
  @Column({ type: 'integer' })
  runs!: number;

  @Field({ description: 'When the job was first queued.' })
  @TimeColumn()
  createdAt!: Date;

  @Field({ description: 'When the job last changed state.' })
  @TimeColumn()
  updatedAt!: Date;

  @Field(() => Date, { nullable: true, description: 'When the job last finished successfully.' })
  @TimeColumn({ nullable: true })
  doneAt!: Date | null;
}
