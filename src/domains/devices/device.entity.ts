import { Field, ID, ObjectType } from 'type-graphql';
import { Entity, Index } from 'typeorm';
import { IdColumn, TimeColumn } from '../../db/columns.js';
import { TenantRecord } from '../../db/tenant-record.js';

/** A card reader, vending reader or time reader (DEVICE_CREATED). */
@ObjectType({
  description:
    'A device registered at a studio: a card reader, vending reader or time reader. Created by DEVICE_CREATED; ' +
    'name, model and whether it is active come with hydration from the upstream Open API.',
})
@Entity('devices')
@Index('devices_key', ['tenantId', 'deviceId'], { unique: true })
export class Device extends TenantRecord {
  @Field(() => ID, { description: 'The upstream device id (unique within the operator): the `entityId` of DEVICE_CREATED.' })
  @IdColumn()
  deviceId!: number;

  @Field({ description: 'When the device was created upstream (DEVICE_CREATED).' })
  @TimeColumn()
  createdAt!: Date;
}
