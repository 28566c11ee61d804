import { id } from './content.js';
import type { AreaDeclarations } from './event-declaration.js';

/** Group classes: their scheduled slots and the bookings of places in them. */
export const CLASS_EVENTS = {
  CLASS_BOOKING_CREATED: {
    area: 'classes',
    entity: 'class booking',
    content: {},
    description: 'A customer booked a place in a group class (in one class slot); content is empty.',
    subscription: { field: 'classBookingCreated', happened: 'A class was booked', records: 'the booking' },
  },
  CLASS_BOOKING_UPDATED: {
    area: 'classes',
    entity: 'class booking',
    content: {},
    description: "A customer's booking of a place in a group class changed; content is empty.",
    subscription: { field: 'classBookingUpdated', happened: 'A class booking changed', records: 'the booking' },
  },
  CLASS_BOOKING_CANCELLED: {
    area: 'classes',
    entity: 'class booking',
    content: {},
    description: "A customer's booking of a place in a group class was cancelled; content is empty.",
    subscription: { field: 'classBookingCancelled', happened: 'A class booking was cancelled', records: 'the booking' },
  },
  CLASS_SLOT_UPDATED: {
    area: 'classes',
    entity: 'class slot',
    content: { classId: id },
    description: 'A class slot (one scheduled session of a group class) changed; content.classId is the id of the class it belongs to.',
    subscription: { field: 'classSlotUpdated', happened: 'A class slot changed', records: 'the slot' },
  },
  CLASS_SLOT_CANCELLED: {
    area: 'classes',
    entity: 'class slot',
    content: { classId: id },
    description:
      'A class slot (one scheduled session of a group class) was cancelled; content.classId is the id of the class it belongs to.',
    subscription: { field: 'classSlotCancelled', happened: 'A class slot was cancelled', records: 'the slot' },
  },
} as const satisfies AreaDeclarations<'classes'>;
