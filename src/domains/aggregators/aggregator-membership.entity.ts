import { Column, Entity, Index } from 'typeorm';
import { IdColumn, TimeColumn } from '../../db/columns.js';
import { TenantRecord } from '../../db/tenant-record.js';

/** A customer's membership through an aggregator (AGGREGATOR_MEMBER_CREATED): the aggregator's member id. */
@Entity('aggregator_memberships')
@Index('aggregator_memberships_key', ['tenantId', 'customerId', 'aggregatorId'], { unique: true })
export class AggregatorMembership extends TenantRecord {
  @IdColumn()
  customerId!: number;

  /** The aggregator's own member id (opaque string). */
  @Column({ type: 'varchar', length: 200 })
  aggregatorId!: string;

  @TimeColumn()
  createdAt!: Date;
}
