import type { ContentRule, ContentSchema } from './content.js';

/**
 * The business areas of `src/domains/`, each owning the projection, schema, push and hydration of
 * the event types it declares.
 */
export type Area =
  'aggregators' | 'appointments' | 'classes' | 'contracts' | 'customers' | 'devices' | 'employees' | 'finance' | 'visits' | 'studios';

/** What a partner reads about an event type's subscription field. */
export interface SubscriptionDeclaration {
  /** The field of `Subscription`: the record, then what happened to it, in the past tense. */
  readonly field: string;
  /** What happened (the start of the field's description). */
  readonly happened: string;
  /** The records the payload carries besides the event. */
  readonly records: string;
}

/**
 * Everything known about one upstream event type, declared once: the list of types, the typed
 * union, the webhook validators, the GraphQL catalog and the subscription fields derive from it.
 */
export interface EventDeclaration {
  /** The area of `src/domains/` that owns it. */
  readonly area: Area;
  /**
   * What the webhook's `entityId` identifies, in words (`customer`, `class slot`, `studio`...).
   * Never assume a customer: `customer` here is what makes an event customer-keyed.
   */
  readonly entity: string;
  /** The content fields the type carries, each checked at the webhook and read back typed. */
  readonly content: ContentSchema;
  /** Conditions over several content fields together (one of two ids must be there...), checked after the fields. */
  readonly rules?: readonly ContentRule[];
  /** One sentence for someone who has never seen the upstream, naming the `content` fields it carries. */
  readonly description: string;
  readonly subscription: SubscriptionDeclaration;
}

/** The declarations of one area's event types, keyed by type. */
export type AreaDeclarations<A extends Area> = { readonly [type: string]: EventDeclaration & { readonly area: A } };
