import { ArgsType, Field, ID } from 'type-graphql';
import { ErrorCode, clientError } from './errors.js';
import { parseIds } from './filters.js';

/** Most values a list argument of a subscription may hold. */
export const MAX_FILTER_VALUES = 1000;

const AFTER =
  'Resume: first deliver, in order, every matching event stored after this one — an event `seq` ("1042") or a cursor of the `events` connection — ' +
  'then continue live, with no gap and no duplicate. Omitted: live events only, from now on.';

/** A list argument, checked: at most {@link MAX_FILTER_VALUES} values. */
export function listArgument<T>(values: readonly T[] | null | undefined, argument: string): readonly T[] | null {
  if (values == null) return null;
  if (values.length > MAX_FILTER_VALUES)
    throw clientError(ErrorCode.BAD_USER_INPUT, `${argument}: at most ${MAX_FILTER_VALUES} values, got ${values.length}`);
  return values;
}

/** Upstream ids of a list argument, checked (integers, at most {@link MAX_FILTER_VALUES}). */
export function idsArgument(values: readonly string[] | null | undefined, argument: string): readonly number[] | null {
  return parseIds(listArgument(values, argument), argument) ?? null;
}

@ArgsType()
export class EventsSubscriptionArgs {
  @Field(() => [String], {
    nullable: true,
    description: 'Only these event types, e.g. ["CUSTOMER_CHECKIN"]; types this service does not know may be named too.',
  })
  types?: string[] | null;

  @Field(() => [ID], { nullable: true, description: 'Only events delivered by these studios.' })
  studioIds?: number[] | null;

  @Field(() => ID, { nullable: true, description: 'Only events about this upstream id (`entityId`).' })
  entityId?: string | null;

  @Field(() => String, { nullable: true, description: AFTER })
  after?: string | null;
}

/** Arguments every per-type subscription takes. */
@ArgsType()
export class RecordSubscriptionArgs {
  @Field(() => [ID], { nullable: true, description: 'Only events delivered by these studios.' })
  studioIds?: number[] | null;

  @Field(() => String, { nullable: true, description: AFTER })
  after?: string | null;
}

@ArgsType()
export class CustomerSubscriptionArgs extends RecordSubscriptionArgs {
  @Field(() => [ID], { nullable: true, description: 'Only events about these customers (upstream customer ids).' })
  customerIds?: string[] | null;
}

@ArgsType()
export class ContractSubscriptionArgs extends CustomerSubscriptionArgs {
  @Field(() => [ID], { nullable: true, description: 'Only events about these contracts (upstream contract ids, `content.contractId`).' })
  contractIds?: string[] | null;
}

@ArgsType()
export class BookingSubscriptionArgs extends RecordSubscriptionArgs {
  @Field(() => [ID], { nullable: true, description: 'Only events about these bookings (upstream booking ids, the `entityId`).' })
  bookingIds?: string[] | null;
}

@ArgsType()
export class ClassSlotSubscriptionArgs extends RecordSubscriptionArgs {
  @Field(() => [ID], { nullable: true, description: 'Only events about these class slots (upstream slot ids, the `entityId`).' })
  slotIds?: string[] | null;

  @Field(() => [ID], { nullable: true, description: 'Only events about slots of these classes (upstream class ids, `content.classId`).' })
  classIds?: string[] | null;
}
