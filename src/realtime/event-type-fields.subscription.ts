import { getNamedType, isObjectType, type FieldNode, type GraphQLResolveInfo } from 'graphql';
import { Args, Resolver, Root, Subscription, type ClassType } from 'type-graphql';
import type { GraphQLContext } from '../api/context.js';
import { ErrorCode, clientError, memberForbidden } from '../api/errors.js';
import { selectedColumns } from '../api/field-columns.js';
import { RecordSubscriptionArgs, listArgument } from '../api/subscription.args.js';
import { subscriptionFamilyOf } from '../domains/areas.js';
import type { RecordWants, SubscriptionFamily } from '../domains/subscription-family.js';
import { KNOWN_EVENT_TYPES, declarationOf, mapEventTypes, type KnownEventType } from '../events/event-catalog.js';
import type { SubscriptionDeclaration } from '../events/event-declaration.js';
import { toEventRecord } from './log-reader.js';
import { eventSubscription, requireRealtime } from './realtime.js';
import type { SharedLoads } from './shared-loads.js';

// One subscription field per upstream event type: its name and words from the type's declaration
// (src/events/), its payload family (what it loads, who may see it) from the area owning the type
// (`subscribe` in src/domains/<area>/<area>.area.ts). A subscription loads the records its selection
// names, each record once per event for every subscriber of this instance, when the event is first
// delivered (on PostgreSQL, inside the transaction that commits it, those a shared subscription here
// will deliver: record-preload.ts): they include this event's change, and possibly later ones.

/** The subscription field of one upstream event type: its declaration (src/events/), with its area's payload family. */
export interface EventSubscriptionSpec extends SubscriptionDeclaration {
  readonly family: SubscriptionFamily;
}

/** The subscription field of every upstream event type. */
export const EVENT_SUBSCRIPTIONS = mapEventTypes((type): EventSubscriptionSpec => ({
  ...declarationOf(type).subscription,
  family: subscriptionFamilyOf(type),
}));

/**
 * The key of one record of an event (a payload field: `visit`, `customer`…) in
 * RealtimeServices.shared. Each record has its own, so subscriptions selecting different records of
 * one event share what they have in common (record-preload.ts puts them there too).
 */
export const recordKey = (seq: number, record: string) => `records:${seq}:${record}`;

/**
 * The records (payload fields besides `event`) a subscription's selection names, possibly none;
 * every one when the walk cannot tell (a fragment on an abstract type). Loading only those spares a
 * member app that shows a check-in's customer the visit's lookup, and a feed of bare events every
 * lookup. Per field node, so per cached document (field-columns.ts).
 */
function selectedRecords(info: GraphQLResolveInfo): RecordSelection {
  // Kept per field node: every group of a member app's query holds the same arrays, not its own.
  const single = info.fieldNodes.length === 1 ? info.fieldNodes[0]! : undefined;
  const known = single && selections.get(single);
  if (known) return known;
  const payload = getNamedType(info.returnType);
  if (!isObjectType(payload)) throw new Error(`${info.fieldName}: its payload is not an object type`);
  const all = Object.keys(payload.getFields()).filter((name) => name !== 'event');
  const named = selectedColumns({ schema: info.schema, fragments: info.fragments }, payload.name, info.fieldNodes, () => true);
  const selection = { all, selected: named === null ? all : named.filter((name) => name !== 'event') };
  if (single) selections.set(single, selection);
  return selection;
}

interface RecordSelection {
  readonly all: readonly string[];
  readonly selected: readonly string[];
}
const selections = new WeakMap<FieldNode, RecordSelection>();

/**
 * The records `names` of the event `seq`, each shared under {@link recordKey}: those nobody has read
 * or is reading yet are read together, in one `load` told which to read.
 */
async function sharedRecords(
  shared: SharedLoads,
  seq: number,
  names: readonly string[],
  load: (wants: RecordWants) => Promise<object>,
): Promise<Record<string, unknown>> {
  const missing = new Set(names.filter((name) => shared.peek(recordKey(seq, name)) === undefined));
  let loading: Promise<Readonly<Record<string, unknown>>> | undefined;
  const values = await Promise.all(
    names.map((name) =>
      shared.get(recordKey(seq, name), async () => {
        loading ??= load((record) => missing.has(record)) as Promise<Readonly<Record<string, unknown>>>;
        return (await loading)[name] ?? null;
      }),
    ),
  );
  const records: Record<string, unknown> = {};
  names.forEach((name, i) => (records[name] = values[i]));
  return records;
}

/** A member's `customerIds`: their own id only (FORBIDDEN naming another); their own when omitted. */
function ownCustomerIds(named: readonly number[] | null, member: number): readonly number[] {
  const other = named?.find((id) => id !== member);
  if (other !== undefined)
    throw clientError(ErrorCode.FORBIDDEN, `customerIds: a member may only name their own customer id, got ${other}`);
  return [member];
}

/** A resolver class holding the subscription field of one event type. */
function eventSubscriptionResolver(type: KnownEventType): ClassType {
  const { field, happened, records, family: spec } = EVENT_SUBSCRIPTIONS[type];

  @Resolver()
  class EventTypeSubscription {
    @Subscription(() => spec.payload, {
      name: field,
      description:
        `${happened} (${type}): the event, with ${records} as ${records.includes(' and ') ? 'they stand' : 'it stands'} after it. ` +
        'Events of the studios this token may see, in commit order, each once; a record it may not see is null. With `after`, first every matching event stored since then.',
      subscribe: ({ args, context, info }) => {
        const { studioIds, after: cursor } = args as RecordSubscriptionArgs;
        const ctx = context as GraphQLContext;
        const { shared } = requireRealtime(ctx).services;
        const selector = { types: [type], studioIds: listArgument(studioIds, 'studioIds'), ...spec.select(args as RecordSubscriptionArgs) };
        const member = ctx.scope.memberCustomerId;
        if (member !== null && spec.member === 'forbidden') throw memberForbidden(`Subscription.${field}`);
        // A member listens to their own customer id only; naming another one is FORBIDDEN, never an empty stream.
        if (member !== null && spec.member === 'entity') selector.entityIds = ownCustomerIds(selector.entityIds ?? null, member);
        const owner = member !== null && typeof spec.member === 'function' ? spec.member : undefined;
        // Whose record it is (`owner`) is read off the records: then every one is loaded.
        const { all, selected } = selectedRecords(info);
        const records = owner ? all : selected;
        if (records.length === 0) return eventSubscription(ctx, selector, cursor, (event) => ({ event: toEventRecord(event) }));
        return eventSubscription(
          ctx,
          selector,
          cursor,
          async (event) => {
            const loaded = await sharedRecords(shared, event.seq, records, (wants) => spec.load(event, ctx.dataSource, wants));
            if (owner && Number(owner(loaded) ?? NaN) !== member) return undefined;
            // `visible` is not given the records not selected (SubscriptionFamily.visible).
            return { event: toEventRecord(event), ...spec.visible(loaded, ctx.scope, event) };
          },
          { records },
        );
      },
    })
    // The arguments are read and checked once, by `subscribe`; this runs per event (per group), and
    // they declare no class-validator constraints: validating them again would only cost CPU.
    payload(@Root() payload: object, @Args(() => spec.args, { validate: false }) _args: RecordSubscriptionArgs): object {
      return payload;
    }
  }
  Object.defineProperty(EventTypeSubscription, 'name', { value: `${field[0]!.toUpperCase()}${field.slice(1)}Subscription` });
  return EventTypeSubscription;
}

/** The resolvers of the per-type subscription fields, one per known event type. */
export const EVENT_TYPE_SUBSCRIPTION_RESOLVERS: readonly ClassType[] = KNOWN_EVENT_TYPES.map(eventSubscriptionResolver);
