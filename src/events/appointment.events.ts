import type { AreaDeclarations } from './event-declaration.js';

/** Appointments: one-to-one services such as a personal-training session. entityId: the booking. */
export const APPOINTMENT_EVENTS = {
  APPOINTMENT_BOOKING_CREATED: {
    area: 'appointments',
    entity: 'appointment booking',
    content: {},
    description: 'A customer booked an appointment (a one-to-one service such as a personal-training session); content is empty.',
    subscription: { field: 'appointmentBookingCreated', happened: 'An appointment was booked', records: 'the booking' },
  },
  APPOINTMENT_BOOKING_UPDATED: {
    area: 'appointments',
    entity: 'appointment booking',
    content: {},
    description: 'A booked appointment (a one-to-one service such as a personal-training session) changed; content is empty.',
    subscription: { field: 'appointmentBookingUpdated', happened: 'An appointment booking changed', records: 'the booking' },
  },
  APPOINTMENT_BOOKING_CANCELLED: {
    area: 'appointments',
    entity: 'appointment booking',
    content: {},
    description: 'A booked appointment (a one-to-one service such as a personal-training session) was cancelled; content is empty.',
    subscription: { field: 'appointmentBookingCancelled', happened: 'An appointment booking was cancelled', records: 'the booking' },
  },
} as const satisfies AreaDeclarations<'appointments'>;
