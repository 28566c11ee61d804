import { bookingReconcileHook } from '../bookings/booking.reconcile.js';
import { TABLES } from '../../db/tables.js';

/** Appointment bookings and their cancellations (see bookingReconcileHook). */
export const APPOINTMENT_BOOKING_RECONCILE = bookingReconcileHook({
  table: TABLES.appointment_bookings,
  list: (api, customerId, slice) => api.listCustomerAppointmentBookings(customerId, slice),
  created: 'appointmentBookings',
  cancelled: 'appointmentBookingCancellations',
  synthesises: { appointmentBookings: 'APPOINTMENT_BOOKING_CREATED', appointmentBookingCancellations: 'APPOINTMENT_BOOKING_CANCELLED' },
});
