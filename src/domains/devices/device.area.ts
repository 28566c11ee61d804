import type { AreaModule } from '../area-module.js';
import { hydrationTarget } from '../hydration-target.js';
import { DEVICE_HYDRATORS } from './device.hydrators.js';
import { DEVICE_EVENTS } from './device.subscriptions.js';

/** Devices registered with a studio: entityId is the device. */
export const DEVICE_AREA = {
  project: { DEVICE_CREATED: (event, records) => records.devices.apply(event) },
  hydrators: DEVICE_HYDRATORS,
  hydrate: { DEVICE_CREATED: (event) => [hydrationTarget('device', event.entityId)] },
  reconcile: {},
  subscribe: { DEVICE_CREATED: DEVICE_EVENTS },
} as const satisfies AreaModule<'devices'>;
