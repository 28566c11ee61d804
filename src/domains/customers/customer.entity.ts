import { Column, Entity, Index } from 'typeorm';
import { IdColumn, TimeColumn } from '../../db/columns.js';
import { TenantRecord } from '../../db/tenant-record.js';

/**
 * A member or prospect of a tenant. Created by CUSTOMER_CREATED or by the first customer-keyed
 * event about it; never removed (CUSTOMER_DELETED leaves a tombstone). Names and other personal
 * data come from the Open API (hydration).
 */
@Entity('customers')
@Index('customers_key', ['tenantId', 'customerId'], { unique: true })
@Index('customers_presence', ['lastCheckinStudioId', 'lastCheckinAt'])
export class Customer extends TenantRecord {
  @IdColumn()
  customerId!: number;

  /** Upstream time of CUSTOMER_CREATED, if it arrived. */
  @TimeColumn({ nullable: true })
  createdAt!: Date | null;

  /** Upstream time of the latest CUSTOMER_UPDATED. */
  @TimeColumn({ nullable: true })
  updatedAt!: Date | null;

  /** Upstream time of the latest CUSTOMER_COMMUNICATION_PREFERENCES_UPDATED. */
  @TimeColumn({ nullable: true })
  communicationPreferencesUpdatedAt!: Date | null;

  /** Upstream time of CUSTOMER_DELETED: set means deleted (the record stays as a tombstone). */
  @TimeColumn({ nullable: true })
  deletedAt!: Date | null;

  /** Latest check-in and the studio it happened at. Checked in now: lastCheckinAt > lastCheckoutAt. */
  @TimeColumn({ nullable: true })
  lastCheckinAt!: Date | null;

  @Column({ type: 'integer', nullable: true })
  lastCheckinStudioId!: number | null;

  @TimeColumn({ nullable: true })
  lastCheckoutAt!: Date | null;
}
