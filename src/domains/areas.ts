import type { EventOf, KnownEvent, KnownEventType } from '../events/event-catalog.js';
import type { Area } from '../events/event-declaration.js';
import { AGGREGATOR_AREA } from './aggregators/aggregator.area.js';
import { APPOINTMENT_AREA } from './appointments/appointment.area.js';
import type { AreaModule } from './area-module.js';
import type { BatchProjectors } from './batch-projectors.js';
import { CLASS_AREA } from './classes/class.area.js';
import { CONTRACT_AREA } from './contracts/contract.area.js';
import { CUSTOMER_AREA } from './customers/customer.area.js';
import { DEVICE_AREA } from './devices/device.area.js';
import { EMPLOYEE_AREA } from './employees/employee.area.js';
import { FINANCE_AREA } from './finance/finance.area.js';
import type { HydrationKind, HydrationTarget } from './hydration-target.js';
import type { Hydrator } from './hydrator.js';
import { RECONCILE_KINDS, type ReconcileHooks, type ReconcileKind } from './reconcile-hook.js';
import { VISIT_AREA } from './visits/visit.area.js';
import { STUDIO_AREA } from './studios/studio.area.js';
import type { SubscriptionFamily } from './subscription-family.js';

/** Every area's module: an area declared in src/events/ without a module here fails to compile. */
const AREAS = {
  aggregators: AGGREGATOR_AREA,
  appointments: APPOINTMENT_AREA,
  classes: CLASS_AREA,
  contracts: CONTRACT_AREA,
  customers: CUSTOMER_AREA,
  devices: DEVICE_AREA,
  employees: EMPLOYEE_AREA,
  finance: FINANCE_AREA,
  visits: VISIT_AREA,
  studios: STUDIO_AREA,
} as const satisfies { readonly [A in Area]: AreaModule<A> };

type Projections = { readonly [T in KnownEventType]: (event: EventOf<T>, records: BatchProjectors) => void };
type Hydrations = { readonly [T in KnownEventType]: (event: EventOf<T>) => readonly HydrationTarget[] };
type HydratorTable = { readonly [K in HydrationKind]: Hydrator };
type Subscriptions = { readonly [T in KnownEventType]: SubscriptionFamily };

/** The areas' handlers merged, keyed by event type. */
const PROJECTIONS: Projections = {
  ...AREAS.aggregators.project,
  ...AREAS.appointments.project,
  ...AREAS.classes.project,
  ...AREAS.contracts.project,
  ...AREAS.customers.project,
  ...AREAS.devices.project,
  ...AREAS.finance.project,
  ...AREAS.visits.project,
  ...AREAS.studios.project,
  ...AREAS.employees.project,
};
const HYDRATIONS: Hydrations = {
  ...AREAS.aggregators.hydrate,
  ...AREAS.appointments.hydrate,
  ...AREAS.classes.hydrate,
  ...AREAS.contracts.hydrate,
  ...AREAS.customers.hydrate,
  ...AREAS.devices.hydrate,
  ...AREAS.finance.hydrate,
  ...AREAS.visits.hydrate,
  ...AREAS.studios.hydrate,
  ...AREAS.employees.hydrate,
};
const SUBSCRIPTIONS: Subscriptions = {
  ...AREAS.aggregators.subscribe,
  ...AREAS.appointments.subscribe,
  ...AREAS.classes.subscribe,
  ...AREAS.contracts.subscribe,
  ...AREAS.customers.subscribe,
  ...AREAS.devices.subscribe,
  ...AREAS.finance.subscribe,
  ...AREAS.visits.subscribe,
  ...AREAS.studios.subscribe,
  ...AREAS.employees.subscribe,
};

/** The areas' hydrators merged: a hydration kind no area reads fails to compile. */
const HYDRATORS: HydratorTable = {
  ...AREAS.aggregators.hydrators,
  ...AREAS.appointments.hydrators,
  ...AREAS.classes.hydrators,
  ...AREAS.contracts.hydrators,
  ...AREAS.customers.hydrators,
  ...AREAS.devices.hydrators,
  ...AREAS.finance.hydrators,
  ...AREAS.visits.hydrators,
  ...AREAS.studios.hydrators,
  ...AREAS.employees.hydrators,
};

/** The areas' reconciliation hooks merged, keyed by kind: a kind without its hook fails to compile. */
const RECONCILE_TABLE: ReconcileHooks = {
  ...AREAS.aggregators.reconcile,
  ...AREAS.appointments.reconcile,
  ...AREAS.classes.reconcile,
  ...AREAS.contracts.reconcile,
  ...AREAS.customers.reconcile,
  ...AREAS.devices.reconcile,
  ...AREAS.finance.reconcile,
  ...AREAS.visits.reconcile,
  ...AREAS.studios.reconcile,
  ...AREAS.employees.reconcile,
};

/**
 * Every reconciliation hook once, in the order of the first kind it reports (RECONCILE_KINDS): a
 * hook reporting several kinds (check-ins and check-outs, say) is listed under each of them.
 */
export const RECONCILE_HOOKS = [...new Set(RECONCILE_KINDS.map((kind) => RECONCILE_TABLE[kind]))];

/** The event type a repair of `kind` synthesises, as the hook reporting it says. */
export function synthesisedType<K extends ReconcileKind>(kind: K): KnownEventType {
  return RECONCILE_TABLE[kind].synthesises[kind];
}

function projectTyped<T extends KnownEventType>(type: T, event: EventOf<T>, records: BatchProjectors): void {
  PROJECTIONS[type](event, records);
}

function hydrateTyped<T extends KnownEventType>(type: T, event: EventOf<T>): readonly HydrationTarget[] {
  return HYDRATIONS[type](event);
}

/** Applies one event to the batch's record writers, through the area that owns its type. */
export function projectEvent(event: KnownEvent, records: BatchProjectors): void {
  projectTyped(event.type, event, records);
}

/** What one event asks hydration to read, as its area says. */
export function hydrationTargetsOf(event: KnownEvent): readonly HydrationTarget[] {
  return hydrateTyped(event.type, event);
}

/** How to read the records of one hydration kind, as the area owning them says. */
export function hydratorOf(kind: HydrationKind): Hydrator {
  return HYDRATORS[kind];
}

/** The payload family of an event type's subscription field, as its area says. */
export function subscriptionFamilyOf(type: KnownEventType): SubscriptionFamily {
  return SUBSCRIPTIONS[type];
}
