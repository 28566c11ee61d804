import { AGGREGATOR_EVENTS } from './aggregator.events.js';
import { APPOINTMENT_EVENTS } from './appointment.events.js';
import { CLASS_EVENTS } from './class.events.js';
import type { ContentOf, FieldContext } from './content.js';
import { CONTRACT_EVENTS } from './contract.events.js';
import { CUSTOMER_EVENTS } from './customer.events.js';
import { DEVICE_EVENTS } from './device.events.js';
import { EMPLOYEE_EVENTS } from './employee.events.js';
import type { Area, EventDeclaration } from './event-declaration.js';
import { FINANCE_EVENTS } from './finance.events.js';
import { STUDIO_EVENTS } from './studio.events.js';
import type { LoggedEvent } from './logged-event.js';
import type { Problem } from './values.js';
import { VISIT_EVENTS } from './visit.events.js';

/**
 * Every upstream event type this version applies to records, declared once per area. The list,
 * the union, the validators, the GraphQL catalog and the subscription fields all derive from this
 * object; an area's handlers are checked against the types it declares (see `src/domains/areas.ts`).
 * Types outside it are still accepted and logged, marked unknown (the upstream adds types without
 * notice).
 */
export const EVENT_DECLARATIONS = {
  ...AGGREGATOR_EVENTS,
  ...APPOINTMENT_EVENTS,
  ...CLASS_EVENTS,
  ...CONTRACT_EVENTS,
  ...CUSTOMER_EVENTS,
  ...DEVICE_EVENTS,
  ...EMPLOYEE_EVENTS,
  ...FINANCE_EVENTS,
  ...VISIT_EVENTS,
  ...STUDIO_EVENTS,
} as const satisfies { readonly [type: string]: EventDeclaration };

type Declarations = typeof EVENT_DECLARATIONS;

export type KnownEventType = keyof Declarations;

/** The declared types, sorted by name. */
export const KNOWN_EVENT_TYPES: readonly KnownEventType[] = (Object.keys(EVENT_DECLARATIONS) as KnownEventType[]).sort();

export function isKnownEventType(type: string): type is KnownEventType {
  return Object.hasOwn(EVENT_DECLARATIONS, type);
}

/** The declaration of a known type. */
export function declarationOf(type: KnownEventType): EventDeclaration {
  return EVENT_DECLARATIONS[type];
}

/** A value for every known type: `f` of each (the one place a per-type table is built by a loop). */
export function mapEventTypes<V>(f: (type: KnownEventType) => V): { readonly [T in KnownEventType]: V } {
  return Object.fromEntries(KNOWN_EVENT_TYPES.map((type) => [type, f(type)])) as { readonly [T in KnownEventType]: V };
}

/** The event types an area declares. */
export type AreaEventType<A extends Area> = { [T in KnownEventType]: Declarations[T]['area'] extends A ? T : never }[KnownEventType];

/** What every event carries once it is in the log. */
export interface EventBase {
  /** Event-log sequence number. */
  readonly seq: number;
  readonly tenantId: number;
  readonly studioId: number;
  /** What it identifies depends on the type (`declarationOf(type).entity`). */
  readonly entityId: number;
  /** Upstream time, epoch ms. */
  readonly occurredAt: number;
}

/** Each known type's event, with its typed content. */
export type EventOfType = {
  readonly [T in KnownEventType]: EventBase & { readonly type: T; readonly content: ContentOf<Declarations[T]['content']> };
};

/** A known event: a discriminated union over `type`. */
export type KnownEvent = EventOfType[KnownEventType];

/** The events of the given types. */
export type EventOf<T extends KnownEventType> = EventOfType[T];

/** Why an element's content does not fit its type's declaration (the first problem), or undefined. */
export function contentProblem(
  type: KnownEventType,
  content: Readonly<Record<string, unknown>> | null,
  context: Omit<FieldContext, 'type' | 'path'> & { readonly path: string },
): Problem | undefined {
  for (const [field, kind] of Object.entries(declarationOf(type).content)) {
    const problem = kind.problem(content?.[field], { type, path: `${context.path}.${field}`, now: context.now });
    if (problem) return problem;
  }
  for (const rule of declarationOf(type).rules ?? []) {
    const problem = rule.problem(content, { type, path: context.path, now: context.now });
    if (problem) return problem;
  }
  return undefined;
}

/** The typed view of a logged event, or undefined for an unknown type. */
export function toKnownEvent(event: LoggedEvent): KnownEvent | undefined {
  const type = event.type;
  if (!isKnownEventType(type)) return undefined;
  const content: Record<string, unknown> = {};
  for (const [field, kind] of Object.entries(declarationOf(type).content)) content[field] = kind.read(event.content?.[field]);
  // The one place the log's plain data becomes typed: the webhook validator checked each declared
  // field against the same kinds (contentProblem) before the event was stored.
  return {
    seq: event.seq,
    tenantId: event.tenantId,
    studioId: event.studioId,
    entityId: event.entityId,
    occurredAt: event.occurredAt,
    type,
    content,
  } as KnownEvent;
}

/** For the `default:` branch of a switch over a union: fails to compile when a case is missing. */
export function unreachable(value: never): never {
  throw new Error(`unhandled case: ${JSON.stringify(value)}`);
}
