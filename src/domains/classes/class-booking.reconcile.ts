import { bookingReconcileHook } from '../bookings/booking.reconcile.js';
import { TABLES } from '../../db/tables.js';

/** Class bookings and their cancellations (see bookingReconcileHook). */
export const CLASS_BOOKING_RECONCILE = bookingReconcileHook({
  table: TABLES.class_bookings,
  list: (api, customerId, slice) => api.listCustomerClassBookings(customerId, slice),
  created: 'classBookings',
  cancelled: 'classBookingCancellations',
  synthesises: { classBookings: 'CLASS_BOOKING_CREATED', classBookingCancellations: 'CLASS_BOOKING_CANCELLED' },
});
