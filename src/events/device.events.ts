import type { AreaDeclarations } from './event-declaration.js';

/** Hardware registered with a studio. */
export const DEVICE_EVENTS = {
  DEVICE_CREATED: {
    area: 'devices',
    entity: 'device',
    content: {},
    description: 'A device (hardware registered with the studio, such as a check-in terminal) was created; content is empty.',
    subscription: { field: 'deviceCreated', happened: 'A device was registered', records: 'the device' },
  },
} as const satisfies AreaDeclarations<'devices'>;
