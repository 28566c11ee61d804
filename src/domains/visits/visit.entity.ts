import { Field, ID, Int, ObjectType } from 'type-graphql';
import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { IdColumn, TimeColumn, int64 } from '../../db/columns.js';
import { TABLES } from '../../db/tables.js';

/**
 * A check-in paired with the check-out that closed it. Pairing is a function of the set of a
 * customer's check-ins and check-outs (see visit.projector.ts), so it comes out the same whatever
 * order the events arrive in. A check-out with no open check-in before it is kept as a visit with
 * no check-in.
 */
@ObjectType({
  simpleResolvers: true,
  description:
    'A stay at a studio: a check-in and the check-out that closed it. A check-out with no open check-in before it is a visit without `checkinAt`.',
})
@Entity(TABLES.visits)
@Index('visits_customer', ['tenantId', 'customerId', 'checkinAt'])
@Index('visits_studio_checkin', ['studioId', 'checkinAt'])
// The `visits` connection in check-in order for a token of several studios (or all): without it,
// every visit was sorted for a page (220 ms at 1M visits on SQLite); one studio uses the index above.
@Index('visits_checkin', ['checkinAt'])
// A check-out's payload is the visit it closed, found by its seq (migration 1764000000017).
@Index('visits_checkout', ['checkoutSeq'])
export class Visit {
  /** The event-log `seq` of the check-in (or of the check-out, for a check-out without check-in): stable. */
  @Field(() => ID, { description: 'Our id for the visit (stable).' })
  @PrimaryColumn({ type: 'bigint', transformer: int64 })
  id!: number;

  @Field(() => Int, { description: 'The operator (tenant).' })
  @Column({ type: 'integer' })
  tenantId!: number;

  @Field(() => ID, { description: 'The upstream customer id.' })
  @IdColumn()
  customerId!: number;

  /** The studio that delivered the check-in (or the check-out, when there is no check-in). */
  @Field(() => ID, { description: 'The studio that delivered the check-in (or the check-out, when there is no check-in).' })
  @Column({ type: 'integer' })
  studioId!: number;

  @Field(() => Date, { nullable: true, description: 'When the customer checked in; null for a check-out without a check-in.' })
  @TimeColumn({ nullable: true })
  checkinAt!: Date | null;

  @Field(() => Date, {
    nullable: true,
    description:
      'When the customer checked out; null while the visit is open, and when another studio, one this token may not see, delivered the check-out.',
  })
  @TimeColumn({ nullable: true })
  checkoutAt!: Date | null;

  /** The studio that delivered the check-out. */
  @Field(() => ID, { nullable: true, description: 'The studio that delivered the check-out; null as for checkoutAt.' })
  @Column({ type: 'integer', nullable: true })
  checkoutStudioId!: number | null;

  /** Event-log `seq` of the check-out. */
  @Column({ type: 'bigint', transformer: int64, nullable: true })
  checkoutSeq!: number | null;

  /** Upstream time of the latest event applied to this visit. */
  @Field({ description: 'When the latest event about this visit (that this token may see) happened upstream.' })
  @TimeColumn()
  lastEventAt!: Date;
}
