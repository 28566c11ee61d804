import { Field, FieldResolver, ObjectType, Resolver, Root } from 'type-graphql';
import type { FieldColumns } from '../../api/field-columns.js';
import { Studio } from './studio.entity.js';

/** What the opening-hours fields read of the studio (see FieldColumns). */
export const STUDIO_HOURS_COLUMNS: FieldColumns = {
  type: 'Studio',
  fields: { openingHours: ['openingHoursJson'], closingHours: ['closingHoursJson'] },
};

/** One line of `openingHours` in `GET /v1/studios/information`, as stored in `studios.openingHoursJson`. */
export interface StoredOpeningHours {
  readonly dayOfWeekFrom: string;
  readonly dayOfWeekTo: string;
  readonly timeFrom: string;
  readonly timeTo: string;
}

/** One closure of `closingHours`, its times as epoch ms (the answer's zoned date-times, parsed). */
export interface StoredClosingHours {
  readonly reason: string | null;
  readonly from: number | null;
  readonly to: number | null;
}

@ObjectType({
  description:
    "When a studio is open: from `dayOfWeekFrom` to `dayOfWeekTo` (inclusive), each of those days from `timeFrom` to `timeTo`, in the studio's local time.",
})
export class StudioOpeningHours {
  @Field({ description: 'The first day of the range: MONDAY ... SUNDAY (as the upstream spells it).' }) dayOfWeekFrom!: string;
  @Field({ description: 'The last day of the range (inclusive): MONDAY ... SUNDAY.' }) dayOfWeekTo!: string;
  @Field({ description: 'Opening time on those days, local wall time as the upstream gives it (e.g. "06:00").' }) timeFrom!: string;
  @Field({ description: 'Closing time on those days, local wall time (e.g. "22:00").' }) timeTo!: string;
}

@ObjectType({ description: 'A period in which a studio is closed outside its usual hours (a holiday, a renovation).' })
export class StudioClosingHours {
  @Field(() => String, { nullable: true, description: 'Why, as the operator wrote it.' }) reason!: string | null;
  @Field(() => Date, { nullable: true, description: 'When the closure begins.' }) from!: Date | null;
  @Field(() => Date, { nullable: true, description: 'When the closure ends.' }) to!: Date | null;
}

function parse<T>(json: string | null): T[] | null {
  if (json === null || json === undefined) return null;
  try {
    const value: unknown = JSON.parse(json);
    return Array.isArray(value) ? (value as T[]) : null;
  } catch {
    return null;
  }
}

/** The studio's opening hours and closures: read from the Open API (`GET /v1/studios/information`), what a studio shows the public. */
@Resolver(() => Studio)
export class StudioHoursResolver {
  @FieldResolver(() => [StudioOpeningHours], {
    nullable: true,
    description:
      'When the studio is open, per range of weekdays, as the upstream Open API last said (read again after each STUDIO_OPENING_HOURS_UPDATED); null until read (a studio without an Open API key is never read). Public studio information.',
  })
  openingHours(@Root() studio: Studio): StudioOpeningHours[] | null {
    return parse<StoredOpeningHours>(studio.openingHoursJson)?.map((h) => ({ ...h })) ?? null;
  }

  @FieldResolver(() => [StudioClosingHours], {
    nullable: true,
    description: 'Closures outside the usual hours, as the upstream Open API last said; null until read. Public studio information.',
  })
  closingHours(@Root() studio: Studio): StudioClosingHours[] | null {
    return (
      parse<StoredClosingHours>(studio.closingHoursJson)?.map((h) => ({
        reason: h.reason ?? null,
        from: h.from === null || h.from === undefined ? null : new Date(h.from),
        to: h.to === null || h.to === undefined ? null : new Date(h.to),
      })) ?? null
    );
  }
}
