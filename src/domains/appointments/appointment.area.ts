import type { AreaModule } from '../area-module.js';
import { hydrationTarget } from '../hydration-target.js';
import { APPOINTMENT_HYDRATORS } from './appointment.hydrators.js';
import { APPOINTMENT_BOOKING_RECONCILE } from './appointment-booking.reconcile.js';
import { APPOINTMENT_BOOKING_EVENTS } from './appointment.subscriptions.js';

const bookingTargets = (event: { readonly entityId: number }) => [hydrationTarget('appointment_booking', event.entityId)];

/** Appointment bookings: entityId is the booking. */
export const APPOINTMENT_AREA = {
  project: {
    APPOINTMENT_BOOKING_CREATED: (event, records) => records.appointmentBookings.apply(event, 'created'),
    APPOINTMENT_BOOKING_UPDATED: (event, records) => records.appointmentBookings.apply(event, 'updated'),
    APPOINTMENT_BOOKING_CANCELLED: (event, records) => records.appointmentBookings.apply(event, 'cancelled'),
  },
  hydrators: APPOINTMENT_HYDRATORS,
  hydrate: {
    APPOINTMENT_BOOKING_CREATED: bookingTargets,
    APPOINTMENT_BOOKING_UPDATED: bookingTargets,
    APPOINTMENT_BOOKING_CANCELLED: bookingTargets,
  },
  reconcile: { appointmentBookings: APPOINTMENT_BOOKING_RECONCILE, appointmentBookingCancellations: APPOINTMENT_BOOKING_RECONCILE },
  subscribe: {
    APPOINTMENT_BOOKING_CREATED: APPOINTMENT_BOOKING_EVENTS,
    APPOINTMENT_BOOKING_UPDATED: APPOINTMENT_BOOKING_EVENTS,
    APPOINTMENT_BOOKING_CANCELLED: APPOINTMENT_BOOKING_EVENTS,
  },
} as const satisfies AreaModule<'appointments'>;
