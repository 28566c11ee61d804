import { Field, ID, ObjectType, registerEnumType } from 'type-graphql';
import { Column } from 'typeorm';
import { IdColumn, TimeColumn } from '../../db/columns.js';
import { TenantRecord } from '../../db/tenant-record.js';

export const BOOKING_STATUSES = ['BOOKED', 'CANCELLED'] as const;
export type BookingStatus = (typeof BOOKING_STATUSES)[number];

/** The statuses as a GraphQL enum (values as stored). */
export const BookingStatusEnum = Object.fromEntries(BOOKING_STATUSES.map((s) => [s, s])) as { readonly [S in BookingStatus]: S };
registerEnumType(BookingStatusEnum, {
  name: 'BookingStatus',
  description: 'Where a booking stands after the latest event about it.',
  valuesConfig: {
    BOOKED: { description: 'Booked: the latest event created or changed the booking.' },
    CANCELLED: { description: 'Cancelled: the latest event cancelled the booking (a cancellation wins a tie).' },
  },
});

/**
 * Shared shape of class and appointment bookings: the status is decided by the latest event
 * (`statusAt`); on equal upstream times a cancellation wins, so the outcome does not depend on
 * arrival order.
 */
@ObjectType({ simpleResolvers: true })
export abstract class BookingRecord extends TenantRecord {
  @Field(() => ID, { description: 'The upstream booking id (unique within the operator): the `entityId` of the booking events.' })
  @IdColumn()
  bookingId!: number;

  @Field(() => BookingStatusEnum, { description: 'BOOKED or CANCELLED, decided by the latest event about the booking.' })
  @Column({ type: 'varchar', length: 16 })
  status!: BookingStatus;

  /** Upstream time of the event that decided `status`. */
  @Field({ description: 'When the event that decided `status` happened upstream.' })
  @TimeColumn()
  statusAt!: Date;

  /** Upstream time of the *_CREATED event, if it arrived. */
  @Field(() => Date, {
    nullable: true,
    description: 'When the booking was made upstream (the *_BOOKING_CREATED event), if that event arrived.',
  })
  @TimeColumn({ nullable: true })
  createdAt!: Date | null;

  /** Upstream time of the latest *_UPDATED event. */
  @Field(() => Date, { nullable: true, description: 'When the booking last changed upstream (the latest *_BOOKING_UPDATED event).' })
  @TimeColumn({ nullable: true })
  updatedAt!: Date | null;

  /** Upstream time of the latest *_CANCELLED event. */
  @Field(() => Date, {
    nullable: true,
    description: 'When the booking was cancelled upstream (the latest *_BOOKING_CANCELLED event); null if it never was.',
  })
  @TimeColumn({ nullable: true })
  cancelledAt!: Date | null;

  /**
   * The booking customer's upstream id. Booking events do not name the customer (entityId is the
   * booking), so this is filled by hydration from the Open API; null until then.
   */
  @Field(() => ID, {
    nullable: true,
    description:
      'The upstream id of the customer who booked. Filled once the booking is hydrated from the upstream Open API; null until then (booking webhooks do not name the customer).',
  })
  @IdColumn({ nullable: true })
  customerId!: number | null;

  /**
   * The upstream's own status, finer than `status` (hydrated): BOOKED, BOOKED_WITH_CONFIRMATION_REQUIRED,
   * WAITING_LIST (classes only), CANCELED.
   */
  @Field(() => String, {
    nullable: true,
    description:
      "The operator's own booking status, finer than `status`: BOOKED, BOOKED_WITH_CONFIRMATION_REQUIRED, WAITING_LIST (class bookings only) or CANCELED (new values may appear). From the Open API; null until hydrated.",
  })
  @Column({ type: 'text', nullable: true })
  bookingStatus!: string | null;

  @Field(() => String, {
    nullable: true,
    description: 'Whether the customer took part: PARTICIPATING, NOT_PARTICIPATING or UNSET. From the Open API; null until hydrated.',
  })
  @Column({ type: 'text', nullable: true })
  participantStatus!: string | null;

  @Field(() => Date, { nullable: true, description: 'When the booking was last read from the upstream Open API; null if never.' })
  @TimeColumn({ nullable: true })
  hydratedAt!: Date | null;
}
