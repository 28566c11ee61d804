import { Field, ObjectType } from 'type-graphql';
import { RecordSubscriptionArgs } from '../../api/subscription.args.js';
import { SqlReader } from '../../db/sql-reader.js';
import { EventRecord } from '../events/event-record.entity.js';
import { EVENT_FIELD, family } from '../subscription-family.js';
import { Studio } from './studio.entity.js';

@ObjectType({
  simpleResolvers: true,
  description: "A change to a studio's own settings (opening hours, custom customer fields), with the studio.",
})
export class StudioEventPayload {
  @Field(() => EventRecord, EVENT_FIELD) event!: EventRecord;
  @Field(() => Studio, {
    nullable: true,
    description:
      'The studio that delivered the event (its webhook key), as it stands after the event; null when this token may not see it.',
  })
  studio!: Studio | null;
}

/** A change to the settings of the studio that delivered the event. */
export const STUDIO_EVENTS = family({
  payload: StudioEventPayload,
  args: RecordSubscriptionArgs,
  select: () => ({}),
  // The studio whose webhook key delivered it (entityId is its upstream id).
  load: async (event, dataSource) => ({ studio: await SqlReader.of(dataSource).findOne(Studio, { id: event.studioId }) }),
  visible: ({ studio }, scope) => ({ studio: studio && scope.allows(studio.id) ? studio : null }),
  // Studio information (name, opening hours) is what a studio shows the public: a member's token
  // hears the changes of its own studios (the scope), like the class schedule.
  member: 'public',
});
