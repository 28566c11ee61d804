import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import { IdColumn, TimeColumn } from '../../db/columns.js';
import { TABLES } from '../../db/tables.js';

/**
 * Which studios have delivered events about a customer, and when. A customer belongs to a tenant
 * and may visit several of its studios; a token sees a customer when one of its studios is linked
 * here, and the customer's activity (first and last event, latest check-in and check-out) as its
 * studios saw it: computed from these rows alone (customer-activity.ts).
 */
@Entity(TABLES.customer_studios)
@Index('customer_studios_key', ['tenantId', 'customerId', 'studioId'], { unique: true })
@Index('customer_studios_studio', ['studioId', 'customerId'])
export class CustomerStudio {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column({ type: 'integer' })
  tenantId!: number;

  @IdColumn()
  customerId!: number;

  @Column({ type: 'integer' })
  studioId!: number;

  @TimeColumn()
  firstEventAt!: Date;

  @TimeColumn()
  lastEventAt!: Date;

  /** The latest CUSTOMER_CHECKIN this studio delivered about the customer; null if none. */
  @TimeColumn({ nullable: true })
  lastCheckinAt!: Date | null;

  /** The latest CUSTOMER_CHECKOUT this studio delivered about the customer; null if none. */
  @TimeColumn({ nullable: true })
  lastCheckoutAt!: Date | null;
}
