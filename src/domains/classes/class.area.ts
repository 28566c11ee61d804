import type { EventOf } from '../../events/event-catalog.js';
import type { AreaModule } from '../area-module.js';
import { hydrationTarget } from '../hydration-target.js';
import { CLASS_HYDRATORS } from './class.hydrators.js';
import { CLASS_BOOKING_RECONCILE } from './class-booking.reconcile.js';
import { CLASS_BOOKING_EVENTS, CLASS_SLOT_EVENTS } from './class.subscriptions.js';

const bookingTargets = (event: { readonly entityId: number }) => [hydrationTarget('class_booking', event.entityId)];
const slotTargets = (event: EventOf<'CLASS_SLOT_UPDATED' | 'CLASS_SLOT_CANCELLED'>) => [
  hydrationTarget('class_slot', event.entityId, 'refresh', { classId: event.content.classId }),
  hydrationTarget('class', event.content.classId),
];

/** Group classes: slots (entityId the slot, content.classId its class) and bookings (entityId the booking). */
export const CLASS_AREA = {
  project: {
    CLASS_BOOKING_CREATED: (event, records) => records.classBookings.apply(event, 'created'),
    CLASS_BOOKING_UPDATED: (event, records) => records.classBookings.apply(event, 'updated'),
    CLASS_BOOKING_CANCELLED: (event, records) => records.classBookings.apply(event, 'cancelled'),
    CLASS_SLOT_UPDATED: (event, records) => records.classSlots.apply(event),
    CLASS_SLOT_CANCELLED: (event, records) => records.classSlots.apply(event),
  },
  hydrators: CLASS_HYDRATORS,
  hydrate: {
    CLASS_BOOKING_CREATED: bookingTargets,
    CLASS_BOOKING_UPDATED: bookingTargets,
    CLASS_BOOKING_CANCELLED: bookingTargets,
    CLASS_SLOT_UPDATED: slotTargets,
    CLASS_SLOT_CANCELLED: slotTargets,
  },
  reconcile: { classBookings: CLASS_BOOKING_RECONCILE, classBookingCancellations: CLASS_BOOKING_RECONCILE },
  subscribe: {
    CLASS_BOOKING_CREATED: CLASS_BOOKING_EVENTS,
    CLASS_BOOKING_UPDATED: CLASS_BOOKING_EVENTS,
    CLASS_BOOKING_CANCELLED: CLASS_BOOKING_EVENTS,
    CLASS_SLOT_UPDATED: CLASS_SLOT_EVENTS,
    CLASS_SLOT_CANCELLED: CLASS_SLOT_EVENTS,
  },
} as const satisfies AreaModule<'classes'>;
