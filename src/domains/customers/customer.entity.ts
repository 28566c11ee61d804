import { Field, ID, ObjectType } from 'type-graphql';
import { Column, Entity, Index } from 'typeorm';
import { IdColumn, TimeColumn } from '../../db/columns.js';
import { TenantRecord } from '../../db/tenant-record.js';

/**
 * A member or prospect of a tenant. Created by CUSTOMER_CREATED or by the first customer-keyed
 * event about it; never removed (CUSTOMER_DELETED leaves a tombstone). Names and other personal
 * data come from the Open API (hydration).
 */
@ObjectType({ description: 'A member or prospect of an operator, as far as the webhooks have told us. Deleted customers stay as tombstones (`deleted: true`).' })
@Entity('customers')
@Index('customers_key', ['tenantId', 'customerId'], { unique: true })
@Index('customers_presence', ['lastCheckinStudioId', 'lastCheckinAt'])
export class Customer extends TenantRecord {
  @Field(() => ID, { description: 'The upstream customer id (unique within the operator).' })
  @IdColumn()
  customerId!: number;

  /** Upstream time of CUSTOMER_CREATED, if it arrived. */
  @Field(() => Date, { nullable: true, description: 'When the customer was created upstream (CUSTOMER_CREATED), if that event arrived.' })
  @TimeColumn({ nullable: true })
  createdAt!: Date | null;

  /** Upstream time of the latest CUSTOMER_UPDATED. */
  @Field(() => Date, { nullable: true, description: "When the customer's data last changed upstream (CUSTOMER_UPDATED)." })
  @TimeColumn({ nullable: true })
  updatedAt!: Date | null;

  /** Upstream time of the latest CUSTOMER_COMMUNICATION_PREFERENCES_UPDATED. */
  @Field(() => Date, { nullable: true, description: 'When the communication preferences last changed upstream.' })
  @TimeColumn({ nullable: true })
  communicationPreferencesUpdatedAt!: Date | null;

  /** Upstream time of CUSTOMER_DELETED: set means deleted (the record stays as a tombstone). */
  @Field(() => Date, { nullable: true, description: 'When the customer was deleted upstream; null while not deleted.' })
  @TimeColumn({ nullable: true })
  deletedAt!: Date | null;

  /**
   * Latest check-in and the studio it happened at. Checked in now: lastCheckinAt > lastCheckoutAt.
   * Exposed through customer.resolver.ts, which hides them from tokens that may not see that studio.
   */
  @TimeColumn({ nullable: true })
  lastCheckinAt!: Date | null;

  @Column({ type: 'integer', nullable: true })
  lastCheckinStudioId!: number | null;

  @TimeColumn({ nullable: true })
  lastCheckoutAt!: Date | null;
}
