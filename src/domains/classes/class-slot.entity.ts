import { Field, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { Column, Entity, Index } from 'typeorm';
import { IdColumn, TimeColumn } from '../../db/columns.js';
import { TenantRecord } from '../../db/tenant-record.js';
import { TABLES } from '../../db/tables.js';

export const CLASS_SLOT_STATUSES = ['SCHEDULED', 'CANCELLED'] as const;
export type ClassSlotStatus = (typeof CLASS_SLOT_STATUSES)[number];

/** The statuses as a GraphQL enum (values as stored). */
export const ClassSlotStatusEnum = Object.fromEntries(CLASS_SLOT_STATUSES.map((s) => [s, s])) as { readonly [S in ClassSlotStatus]: S };
registerEnumType(ClassSlotStatusEnum, {
  name: 'ClassSlotStatus',
  description: 'Whether a class slot still takes place, after the latest event about it.',
  valuesConfig: {
    SCHEDULED: { description: 'Takes place: the latest event was CLASS_SLOT_UPDATED.' },
    CANCELLED: { description: 'Cancelled: the latest event was CLASS_SLOT_CANCELLED (a cancellation wins a tie).' },
  },
});

/** One scheduled occurrence of a class (CLASS_SLOT_*; entityId is the slot id, content.classId its class). */
@ObjectType({
  simpleResolvers: true,
  description:
    'One scheduled occurrence of a class (for example "Yoga, Tuesday 18:00"), as the class-slot webhooks (CLASS_SLOT_UPDATED / _CANCELLED) have told us. ' +
    'Times, instructors and capacity are not in the webhooks; they come with hydration from the upstream Open API.',
})
@Entity(TABLES.class_slots)
@Index('class_slots_key', ['tenantId', 'slotId'], { unique: true })
@Index('class_slots_class', ['tenantId', 'classId'])
// classReport and studioSummary: a studio's slots by start time.
@Index('class_slots_studio_start', ['studioId', 'startAt'])
// upcoming classes over every studio (classSlots ordered by START_AT).
@Index('class_slots_start', ['startAt'])
export class ClassSlot extends TenantRecord {
  @Field(() => ID, { description: 'The upstream class slot id (unique within the operator): the `entityId` of the slot events.' })
  @IdColumn()
  slotId!: number;

  /** The class named by the latest event about this slot. */
  @Field(() => ID, { description: 'The upstream id of the class this slot belongs to (`content.classId` of the latest slot event).' })
  @IdColumn()
  classId!: number;

  /** Decided by the latest event; on equal upstream times a cancellation wins. */
  @Field(() => ClassSlotStatusEnum, { description: 'SCHEDULED or CANCELLED, decided by the latest event about the slot.' })
  @Column({ type: 'varchar', length: 16 })
  status!: ClassSlotStatus;

  @Field({ description: 'When the event that decided `status` happened upstream.' })
  @TimeColumn()
  statusAt!: Date;

  /** Upstream time of the latest CLASS_SLOT_UPDATED. */
  @Field(() => Date, { nullable: true, description: 'When the slot last changed upstream (the latest CLASS_SLOT_UPDATED).' })
  @TimeColumn({ nullable: true })
  updatedAt!: Date | null;

  /** Upstream time of the latest CLASS_SLOT_CANCELLED. */
  @Field(() => Date, {
    nullable: true,
    description: 'When the slot was cancelled upstream (the latest CLASS_SLOT_CANCELLED); null if it never was.',
  })
  @TimeColumn({ nullable: true })
  cancelledAt!: Date | null;

  // Hydrated from the Open API (`GET /v1/classes/{classId}/slots/{slotId}`); null until then.

  @Field(() => Date, { nullable: true, description: 'When the slot starts. From the Open API; null until hydrated.' })
  @TimeColumn({ nullable: true })
  startAt!: Date | null;

  @Field(() => Date, { nullable: true, description: 'When the slot ends. From the Open API; null until hydrated.' })
  @TimeColumn({ nullable: true })
  endAt!: Date | null;

  @Field(() => Int, { nullable: true, description: 'Places in the slot (capacity); null when unlimited or not hydrated.' })
  @Column({ type: 'integer', nullable: true })
  maxParticipants!: number | null;

  @Field(() => Int, { nullable: true, description: 'Places booked when the slot was last read from the Open API.' })
  @Column({ type: 'integer', nullable: true })
  bookedParticipants!: number | null;

  @Field(() => Int, { nullable: true, description: 'Customers on the waiting list when the slot was last read from the Open API.' })
  @Column({ type: 'integer', nullable: true })
  waitingListParticipants!: number | null;

  /** JSON array of display names; exposed as `instructors`. */
  @Column({ type: 'text', nullable: true })
  instructorNames!: string | null;

  @Field(() => ID, { nullable: true, description: 'The upstream id of the room or area where the slot takes place.' })
  @IdColumn({ nullable: true })
  locationId!: number | null;

  @Field(() => String, { nullable: true, description: 'The name of the room or area where the slot takes place, e.g. "Studio 2".' })
  @Column({ type: 'text', nullable: true })
  locationName!: string | null;

  @Field(() => Date, { nullable: true, description: 'When the slot was last read from the upstream Open API; null if never.' })
  @TimeColumn({ nullable: true })
  hydratedAt!: Date | null;
}
