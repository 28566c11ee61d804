import { Column } from 'typeorm';
import { IdColumn, TimeColumn } from './columns.js';
import { TenantRecord } from './tenant-record.js';

export const BOOKING_STATUSES = ['BOOKED', 'CANCELLED'] as const;
export type BookingStatus = (typeof BOOKING_STATUSES)[number];

/**
 * Shared shape of class and appointment bookings: the status is decided by the latest event
 * (`statusAt`); on equal upstream times a cancellation wins, so the outcome does not depend on
 * arrival order.
 */
export abstract class BookingRecord extends TenantRecord {
  @IdColumn()
  bookingId!: number;

  @Column({ type: 'varchar', length: 16 })
  status!: BookingStatus;

  /** Upstream time of the event that decided `status`. */
  @TimeColumn()
  statusAt!: Date;

  /** Upstream time of the *_CREATED event, if it arrived. */
  @TimeColumn({ nullable: true })
  createdAt!: Date | null;

  /** Upstream time of the latest *_UPDATED event. */
  @TimeColumn({ nullable: true })
  updatedAt!: Date | null;

  /** Upstream time of the latest *_CANCELLED event. */
  @TimeColumn({ nullable: true })
  cancelledAt!: Date | null;
}
