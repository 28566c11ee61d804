import { Arg, Args, Ctx, Field, FieldResolver, ID, InputType, Query, Resolver, Root, registerEnumType } from 'type-graphql';
import { NestedPageArgs, childWindow, loadChildren } from '../../api/children.js';
import type { GraphQLContext } from '../../api/context.js';
import { TimeRangeInput, parseIds, whereIn, whereTimeRange } from '../../api/filters.js';
import { type Connection, ConnectionArgs, ConnectionType, isOwnId, nestedSize, OrderDirection, paginate } from '../../api/pagination.js';
import { Studio } from '../studios/studio.entity.js';
import { studioLoader } from '../studios/studio.resolver.js';
import { ClassBooking } from './class-booking.entity.js';
import { ClassSlot, ClassSlotStatusEnum, type ClassSlotStatus } from './class-slot.entity.js';
import { SqlReader } from '../../db/sql-reader.js';

export enum ClassSlotOrderField {
  ID = 'id',
  SLOT_ID = 'slotId',
  FIRST_EVENT_AT = 'firstEventAt',
  LAST_EVENT_AT = 'lastEventAt',
  STATUS_AT = 'statusAt',
  START_AT = 'startAt',
}
registerEnumType(ClassSlotOrderField, {
  name: 'ClassSlotOrderField',
  description: 'What to order class slots by.',
  valuesConfig: {
    START_AT: {
      description:
        'When the slot starts (then id). Lists only slots with a start: `startAt` comes with hydration, and a slot not hydrated yet has none.',
    },
  },
});

@InputType({ description: 'How to order class slots.' })
export class ClassSlotOrder {
  @Field(() => ClassSlotOrderField, { defaultValue: ClassSlotOrderField.ID })
  field!: ClassSlotOrderField;

  @Field(() => OrderDirection, { defaultValue: OrderDirection.ASC })
  direction!: OrderDirection;
}

@InputType({ description: 'Which class slots to list. Every condition given must hold.' })
export class ClassSlotFilter {
  @Field(() => [ID], { nullable: true, description: 'Slots whose earliest event these studios delivered.' })
  studioIds?: number[] | null;

  @Field(() => [ID], { nullable: true, description: 'Upstream class slot ids.' })
  slotIds?: string[] | null;

  @Field(() => [ID], { nullable: true, description: 'Slots of these upstream class ids.' })
  classIds?: string[] | null;

  @Field(() => ClassSlotStatusEnum, { nullable: true, description: 'Only slots with this status.' })
  status?: ClassSlotStatus | null;

  @Field(() => TimeRangeInput, { nullable: true, description: 'The status was decided (by the latest event) within this range.' })
  statusAt?: TimeRangeInput | null;

  @Field(() => TimeRangeInput, { nullable: true, description: 'Cancelled upstream (CLASS_SLOT_CANCELLED) within this range.' })
  cancelledAt?: TimeRangeInput | null;

  @Field(() => TimeRangeInput, { nullable: true, description: 'Latest event within this range.' })
  lastEventAt?: TimeRangeInput | null;

  @Field(() => TimeRangeInput, {
    nullable: true,
    description:
      "The slot starts within this range (e.g. today's classes). `startAt` comes with hydration from the Open API: a slot not hydrated yet matches no range.",
  })
  startAt?: TimeRangeInput | null;

  @Field(() => Boolean, {
    nullable: true,
    description:
      "true: only slots that start from now on (this server's clock), as `startAt: {from: <now>}` would; with `orderBy: {field: START_AT}` the upcoming classes, soonest first. false: only slots that started before now.",
  })
  upcoming?: boolean | null;
}

export const ClassSlotConnection = ConnectionType(ClassSlot, 'ClassSlot', 'class slot');

/** `ClassSlot.bookings`: in the order they were made. */
const SLOT_BOOKINGS = {
  entity: ClassBooking,
  parentColumns: ['tenantId', 'classSlotId'],
  studioColumn: 'studioId',
  order: [
    ['firstEventAt', 'ASC'],
    ['id', 'ASC'],
  ],
} as const;

/** Visible class slots by (tenantId, upstream slot id), batched per request. */
export function classSlotLoader(context: GraphQLContext) {
  return context.loaders.get<readonly [number, number], ClassSlot | null>(
    'classSlotByKey',
    async (keys) => {
      const qb = context.dataSource
        .getRepository(ClassSlot)
        .createQueryBuilder('slot')
        .where(
          '(slot.tenantId, slot.slotId) IN (VALUES ' +
            keys.map((_, i) => `(CAST(:t${i} AS INTEGER), CAST(:s${i} AS BIGINT))`).join(', ') +
            ')',
          Object.fromEntries(
            keys.flatMap(([t, s], i) => [
              [`t${i}`, t],
              [`s${i}`, s],
            ]),
          ),
        );
      context.scope.where(qb, 'slot.studioId');
      const found = new Map((await SqlReader.of(context.dataSource).entities(qb)).map((s) => [`${s.tenantId}:${s.slotId}`, s]));
      return keys.map(([t, s]) => found.get(`${t}:${s}`) ?? null);
    },
    ([t, s]) => `${t}:${s}`,
  );
}

@Resolver(() => ClassSlot)
export class ClassSlotResolver {
  @Query(() => ClassSlot, {
    nullable: true,
    description: 'One class slot by our id; null when it does not exist or this token may not see it.',
  })
  classSlot(@Arg('id', () => ID) id: string, @Ctx() context: GraphQLContext): Promise<ClassSlot | null> {
    if (!isOwnId(id)) return Promise.resolve(null);
    const qb = context.dataSource
      .getRepository(ClassSlot)
      .createQueryBuilder('slot')
      .where('slot.id = :id', { id: Number(id) });
    context.scope.where(qb, 'slot.studioId');
    return SqlReader.of(context.dataSource).entity(qb);
  }

  @Query(() => ClassSlotConnection, {
    description:
      'Class slots this token may see (those whose earliest event came from one of its studios), filtered and ordered, one page at a time.',
  })
  classSlots(
    @Args() page: ConnectionArgs,
    @Arg('filter', () => ClassSlotFilter, { nullable: true }) filter: ClassSlotFilter | null,
    @Arg('orderBy', () => ClassSlotOrder, { nullable: true }) orderBy: ClassSlotOrder | null,
    @Ctx() context: GraphQLContext,
  ): Promise<Connection<ClassSlot>> {
    const qb = context.dataSource.getRepository(ClassSlot).createQueryBuilder('slot');
    context.scope.where(qb, 'slot.studioId');
    whereIn(qb, 'slot.studioId', filter?.studioIds);
    whereIn(qb, 'slot.slotId', parseIds(filter?.slotIds, 'filter.slotIds'));
    whereIn(qb, 'slot.classId', parseIds(filter?.classIds, 'filter.classIds'));
    if (filter?.status) whereIn(qb, 'slot.status', [filter.status]);
    whereTimeRange(qb, 'slot.statusAt', filter?.statusAt, 'filter.statusAt');
    whereTimeRange(qb, 'slot.cancelledAt', filter?.cancelledAt, 'filter.cancelledAt');
    whereTimeRange(qb, 'slot.lastEventAt', filter?.lastEventAt, 'filter.lastEventAt');
    whereTimeRange(qb, 'slot.startAt', filter?.startAt, 'filter.startAt');
    if (filter?.upcoming != null) qb.andWhere(`slot.startAt ${filter.upcoming ? '>=' : '<'} :now`, { now: Date.now() });
    const field = orderBy?.field ?? ClassSlotOrderField.ID;
    // The keyset needs a value on every row: a slot not hydrated yet has no place in the order of starts.
    if (field === ClassSlotOrderField.START_AT) qb.andWhere('slot.startAt IS NOT NULL');
    return paginate(qb, page, {
      column: `slot.${field}`,
      value: (s) => (field === ClassSlotOrderField.ID ? s.id : field === ClassSlotOrderField.SLOT_ID ? s.slotId : s[field]!.getTime()),
      direction: orderBy?.direction ?? OrderDirection.ASC,
      idColumn: 'slot.id',
      id: (s) => s.id,
    });
  }

  @FieldResolver(() => [ClassBooking], {
    description:
      'Bookings of this slot (those this token may see), in the order they were made. ' +
      'A booking is linked to its slot once it is hydrated from the upstream Open API; empty until then.',
  })
  bookings(
    @Root() slot: ClassSlot,
    @Args() { first, after }: NestedPageArgs,
    @Arg('firstEventAt', () => TimeRangeInput, {
      nullable: true,
      description: 'Only bookings whose earliest event (the booking, as far as the webhooks tell) lies within this range.',
    })
    firstEventAt: TimeRangeInput | null,
    @Ctx() context: GraphQLContext,
  ): Promise<ClassBooking[]> {
    const size = nestedSize(first, 'bookings');
    const window = childWindow('bookings', SLOT_BOOKINGS.order, {
      after,
      range: { column: 'firstEventAt', argument: 'firstEventAt', value: firstEventAt },
    });
    return context.loaders
      .get<readonly [number, number], ClassBooking[]>(
        `bookingsOfClassSlot:${size}:${window.key}`,
        (keys) => loadChildren(context.dataSource, SLOT_BOOKINGS, keys, size, context.scope, null, window),
        ([t, s]) => `${t}:${s}`,
      )
      .load([slot.tenantId, slot.slotId]);
  }

  @FieldResolver(() => Studio, { nullable: true, description: 'The studio that delivered the earliest event about the slot.' })
  studio(@Root() slot: ClassSlot, @Ctx() context: GraphQLContext): Promise<Studio | null> {
    return studioLoader(context).load(slot.studioId);
  }
}
