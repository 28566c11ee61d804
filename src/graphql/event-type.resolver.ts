import { Query, Resolver } from 'type-graphql';
import { KNOWN_EVENT_TYPES, declarationOf } from '../events/event-catalog.js';
import { EventType } from './event-type.type.js';

/** Built once from the event declarations (src/events/): the list is fixed for a given version of the code. */
const EVENT_TYPES: readonly EventType[] = KNOWN_EVENT_TYPES.map((name) => {
  const { entity, description } = declarationOf(name);
  return Object.assign(new EventType(), { name, entity, description });
});

/** Public reference data: reveals nothing about any studio, so it needs no credentials. */
@Resolver(() => EventType)
export class EventTypeResolver {
  @Query(() => [EventType], {
    description: 'The upstream webhook event types this service turns into records, with what each one means.',
  })
  eventTypes(): readonly EventType[] {
    return EVENT_TYPES;
  }
}
