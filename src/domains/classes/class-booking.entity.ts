import { Entity, Index } from 'typeorm';
import { BookingRecord } from '../../db/booking-record.js';

/** A customer's booking of a class slot (CLASS_BOOKING_*; entityId is the booking id). */
@Entity('class_bookings')
@Index('class_bookings_key', ['tenantId', 'bookingId'], { unique: true })
export class ClassBooking extends BookingRecord {}
