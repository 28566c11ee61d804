import { Entity, Index } from 'typeorm';
import { BookingRecord } from '../../db/booking-record.js';

/** A booked appointment (APPOINTMENT_BOOKING_*; entityId is the booking id). */
@Entity('appointment_bookings')
@Index('appointment_bookings_key', ['tenantId', 'bookingId'], { unique: true })
export class AppointmentBooking extends BookingRecord {}
