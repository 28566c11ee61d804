import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { IdColumn, TimeColumn, int64 } from '../../db/columns.js';
import { TABLES } from '../../db/tables.js';

/**
 * One customer of an AUTOMATIC_CUSTOMER_CHECKOUT (the studio checked them out itself, e.g. at
 * closing): the event names a studio and lists customers, so its check-outs are kept per customer
 * here, where the visit pairing (visit.projector.ts) reads them beside the customer's own
 * CUSTOMER_CHECKIN / CUSTOMER_CHECKOUT events. Written in the event's transaction; never changed.
 */
@Entity(TABLES.automatic_checkouts)
@Index('automatic_checkouts_customer', ['tenantId', 'customerId', 'checkoutAt'])
export class AutomaticCheckoutRecord {
  /** The event-log `seq` of the AUTOMATIC_CUSTOMER_CHECKOUT. */
  @PrimaryColumn({ type: 'bigint', transformer: int64 })
  seq!: number;

  /** Position in the event's `content.checkouts`. */
  @PrimaryColumn({ type: 'integer' })
  position!: number;

  @Column({ type: 'integer' })
  tenantId!: number;

  /** Our studio that delivered the event. */
  @Column({ type: 'integer' })
  studioId!: number;

  @IdColumn()
  customerId!: number;

  /** `checkoutTime`, epoch ms. */
  @TimeColumn()
  checkoutAt!: Date;
}
