import { Query, Resolver } from 'type-graphql';
import { KNOWN_EVENT_TYPES } from '../ingest/event-types.js';
import { EVENT_TYPE_CATALOG } from './event-type.catalog.js';
import { EventType } from './event-type.type.js';

/** Built once: the list is fixed for a given version of the code. */
const EVENT_TYPES: readonly EventType[] = KNOWN_EVENT_TYPES.map((name) => Object.assign(new EventType(), { name, ...EVENT_TYPE_CATALOG[name] }));

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
