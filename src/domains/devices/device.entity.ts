import { Field, ID, ObjectType } from 'type-graphql';
import { Column, Entity, Index } from 'typeorm';
import { IdColumn, TimeColumn } from '../../db/columns.js';
import { TenantRecord } from '../../db/tenant-record.js';
import { TABLES } from '../../db/tables.js';

/** A card reader, vending reader or time reader (DEVICE_CREATED). */
@ObjectType({
  simpleResolvers: true,
  description:
    'A device registered at a studio: a card reader, vending reader or time reader. Created by DEVICE_CREATED; ' +
    'name, model and whether it is active come with hydration from the upstream Open API.',
})
@Entity(TABLES.devices)
@Index('devices_key', ['tenantId', 'deviceId'], { unique: true })
export class Device extends TenantRecord {
  @Field(() => ID, { description: 'The upstream device id (unique within the operator): the `entityId` of DEVICE_CREATED.' })
  @IdColumn()
  deviceId!: number;

  @Field({ description: 'When the device was created upstream (DEVICE_CREATED).' })
  @TimeColumn()
  createdAt!: Date;

  // Hydrated from the Open API (`GET /v1/devices`, matched by id); null until then.

  @Field(() => String, {
    nullable: true,
    description: 'The name the operator gave the device, e.g. "Entrance turnstile". From the Open API; null until hydrated.',
  })
  @Column({ type: 'text', nullable: true })
  name!: string | null;

  @Field(() => String, {
    nullable: true,
    description: 'GENERIC_CARD_READER, GENERIC_VENDING_READER or GENERIC_TIME_READER (new values may appear). From the Open API.',
  })
  @Column({ type: 'text', nullable: true })
  model!: string | null;

  @Field(() => Boolean, { nullable: true, description: 'True while the device is in service. From the Open API; null until hydrated.' })
  @Column({ type: 'boolean', nullable: true })
  active!: boolean | null;

  @Field(() => Date, { nullable: true, description: 'When the device was last read from the upstream Open API; null if never.' })
  @TimeColumn({ nullable: true })
  hydratedAt!: Date | null;
}
