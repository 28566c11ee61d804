import { Field, ID, ObjectType } from 'type-graphql';
import { Column, Entity, Index } from 'typeorm';
import { IdColumn, TimeColumn } from '../../db/columns.js';
import { TenantRecord } from '../../db/tenant-record.js';
import { TABLES } from '../../db/tables.js';

/** A customer's membership through an aggregator (AGGREGATOR_MEMBER_CREATED): the aggregator's member id. */
@ObjectType({
  simpleResolvers: true,
  description:
    "A customer's access through an aggregator (a third-party fitness pass such as a corporate wellness network): " +
    "links the aggregator's own member id to the operator's customer. Created by AGGREGATOR_MEMBER_CREATED.",
})
@Entity(TABLES.aggregator_memberships)
@Index('aggregator_memberships_key', ['tenantId', 'customerId', 'aggregatorId'], { unique: true })
export class AggregatorMembership extends TenantRecord {
  @Field(() => ID, { description: 'The upstream id of the customer (the `entityId` of AGGREGATOR_MEMBER_CREATED).' })
  @IdColumn()
  customerId!: number;

  /** The aggregator's own member id (opaque string). */
  @Field({ description: "The aggregator's own id for this member (`content.aggregatorId`; an opaque string)." })
  @Column({ type: 'varchar', length: 200 })
  aggregatorId!: string;

  @Field({ description: 'When the membership was created upstream (AGGREGATOR_MEMBER_CREATED).' })
  @TimeColumn()
  createdAt!: Date;
}
