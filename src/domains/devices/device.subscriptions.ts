import { Field, ObjectType } from 'type-graphql';
import { RecordSubscriptionArgs } from '../../api/subscription.args.js';
import { EventRecord } from '../events/event-record.entity.js';
import { EVENT_FIELD, byEntity, family, ownedBy, recordAfter } from '../subscription-family.js';
import { Device } from './device.entity.js';

@ObjectType({ simpleResolvers: true, description: 'A device registered, with the device.' })
export class DeviceEventPayload {
  @Field(() => EventRecord, EVENT_FIELD) event!: EventRecord;
  @Field(() => Device, recordAfter('The device')) device!: Device | null;
}

/** A device's events (entityId the device). */
export const DEVICE_EVENTS = family({
  payload: DeviceEventPayload,
  args: RecordSubscriptionArgs,
  select: () => ({}),
  load: async (event, dataSource) => ({ device: await byEntity(Device, 'deviceId')(event, dataSource) }),
  visible: ({ device }, scope) => ({ device: ownedBy(device, scope) }),
  member: 'forbidden',
});
