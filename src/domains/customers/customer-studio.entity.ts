import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import { IdColumn, TimeColumn } from '../../db/columns.js';

/**
 * Which studios have delivered events about a customer. A customer belongs to a tenant and may
 * visit several of its studios; a token sees a customer when one of its studios is linked here.
 */
@Entity('customer_studios')
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
}
