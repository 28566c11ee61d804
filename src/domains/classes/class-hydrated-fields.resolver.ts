import { Ctx, FieldResolver, Resolver, Root } from 'type-graphql';
import { SqlReader } from '../../db/sql-reader.js';
import type { GraphQLContext } from '../../api/context.js';
import { ClassBooking } from './class-booking.entity.js';
import { ClassSlot } from './class-slot.entity.js';
import { GymClass } from './class.entity.js';

/** Classes by (tenantId, classId), batched per request. A class is visible with any slot or booking of it. */
function classLoader(context: GraphQLContext) {
  return context.loaders.get<readonly [number, number], GymClass | null>(
    'classByKey',
    async (keys) => {
      const rows = await SqlReader.of(context.dataSource).find(
        GymClass,
        keys.map(([tenantId, classId]) => ({ tenantId, classId })),
      );
      const byKey = new Map(rows.map((r) => [`${r.tenantId}:${r.classId}`, r]));
      return keys.map(([t, c]) => byKey.get(`${t}:${c}`) ?? null);
    },
    ([t, c]) => `${t}:${c}`,
  );
}

/** The class-slot fields hydration adds that are not plain columns. */
@Resolver(() => ClassSlot)
export class ClassSlotHydratedFieldsResolver {
  @FieldResolver(() => [String], {
    nullable: true,
    description: 'Display names of the instructors leading the slot. From the Open API; null until hydrated.',
  })
  instructors(@Root() slot: ClassSlot): string[] | null {
    if (slot.instructorNames === null || slot.instructorNames === undefined) return null;
    const parsed: unknown = JSON.parse(slot.instructorNames);
    return Array.isArray(parsed) ? parsed.filter((n): n is string => typeof n === 'string') : null;
  }

  @FieldResolver(() => GymClass, {
    nullable: true,
    description: 'The class this slot is an occurrence of (title, type, category); null until read from the Open API.',
  })
  class(@Root() slot: ClassSlot, @Ctx() context: GraphQLContext): Promise<GymClass | null> {
    return classLoader(context).load([slot.tenantId, slot.classId]);
  }
}

@Resolver(() => ClassBooking)
export class ClassBookingClassResolver {
  @FieldResolver(() => GymClass, {
    nullable: true,
    description: 'The class of the booked slot; null until the booking and its class were read from the Open API.',
  })
  class(@Root() booking: ClassBooking, @Ctx() context: GraphQLContext): Promise<GymClass | null> {
    return booking.classId === null ? Promise.resolve(null) : classLoader(context).load([booking.tenantId, booking.classId]);
  }
}
