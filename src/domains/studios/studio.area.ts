import type { AreaModule } from '../area-module.js';
import { hydrationTarget } from '../hydration-target.js';
import { STUDIO_HYDRATORS } from './studio.hydrators.js';
import { STUDIO_EVENTS } from './studio.subscriptions.js';

/**
 * The studio itself: entityId is the upstream studio id; the studio is the one whose webhook key
 * delivered the event (see StudioChangeProjector for an entityId that is not that studio's). Opening
 * hours are read from `GET /v1/studios/information`, which the studio's Open API key selects: the
 * job is keyed by the upstream studio id and runs with the delivering studio's key. The additional
 * information fields have no read in the Open API: only the time of their latest change is kept.
 */
export const STUDIO_AREA = {
  project: {
    STUDIO_OPENING_HOURS_UPDATED: (event, records) => records.studioChanges.apply(event),
    ADDITIONAL_INFORMATION_FIELDS_UPDATED: (event, records) => records.studioChanges.apply(event),
  },
  hydrators: STUDIO_HYDRATORS,
  hydrate: {
    STUDIO_OPENING_HOURS_UPDATED: (event) => [hydrationTarget('studio_information', event.entityId)],
    ADDITIONAL_INFORMATION_FIELDS_UPDATED: () => [],
  },
  reconcile: {},
  subscribe: {
    STUDIO_OPENING_HOURS_UPDATED: STUDIO_EVENTS,
    ADDITIONAL_INFORMATION_FIELDS_UPDATED: STUDIO_EVENTS,
  },
} as const satisfies AreaModule<'studios'>;
