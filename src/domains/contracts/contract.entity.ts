import { Field, Float, ID, Int, ObjectType } from 'type-graphql';
import { Column, Entity, Index } from 'typeorm';
import { IdColumn, TimeColumn } from '../../db/columns.js';
import { TenantRecord } from '../../db/tenant-record.js';
import { TABLES } from '../../db/tables.js';

/** A customer's contract (`content.contractId` of CONTRACT_CREATED / CONTRACT_UPDATED). */
@ObjectType({
  simpleResolvers: true,
  description:
    "A customer's membership contract, as the contract webhooks (CONTRACT_CREATED / CONTRACT_UPDATED / CONTRACT_CANCELLED) have told us. " +
    'Rate, term and price are not in the webhooks; they come with hydration from the upstream Open API.',
})
@Entity(TABLES.contracts)
@Index('contracts_key', ['tenantId', 'contractId'], { unique: true })
@Index('contracts_customer', ['tenantId', 'customerId'])
// Reports (src/domains/reports/): a studio's members in customer order, contracts by creation and cancellation.
@Index('contracts_member', ['studioId', 'tenantId', 'customerId'])
@Index('contracts_created', ['studioId', 'createdAt'])
@Index('contracts_cancellation', ['studioId', 'cancellationDate'])
export class Contract extends TenantRecord {
  @Field(() => ID, { description: 'The upstream contract id (unique within the operator): `content.contractId` of the contract events.' })
  @IdColumn()
  contractId!: number;

  /** The customer named by the latest event about this contract. */
  @Field(() => ID, { description: 'The upstream id of the customer holding the contract (the `entityId` of the latest contract event).' })
  @IdColumn()
  customerId!: number;

  /** Upstream time of CONTRACT_CREATED, if it arrived. */
  @Field(() => Date, { nullable: true, description: 'When the contract was created upstream (CONTRACT_CREATED), if that event arrived.' })
  @TimeColumn({ nullable: true })
  createdAt!: Date | null;

  /** Upstream time of the latest CONTRACT_UPDATED. */
  @Field(() => Date, { nullable: true, description: 'When the contract last changed upstream (the latest CONTRACT_UPDATED).' })
  @TimeColumn({ nullable: true })
  updatedAt!: Date | null;

  /**
   * Upstream time of the latest CONTRACT_CANCELLED. Whether the cancellation stands, and on which
   * calendar day, is `cancelled` / `cancellationDate` (hydrated); counts use those only.
   */
  @Field(() => Date, {
    nullable: true,
    description:
      'When the contract was cancelled upstream (the latest CONTRACT_CANCELLED), if that event arrived. The event queues a read of the contract: ' +
      '`cancelled` and `cancellationDate` then say whether the cancellation stands and its calendar day, and they alone count as a cancellation ' +
      'in reports and statistics (`cancelledAt` is kept as the record of the event even if the upstream later says otherwise).',
  })
  @TimeColumn({ nullable: true })
  cancelledAt!: Date | null;

  // Hydrated from the Open API (`GET /v1/customers/{customerId}/contracts`, matched by id); null until then.

  @Field(() => String, {
    nullable: true,
    description: 'The name of the rate (tariff) the contract is on, e.g. "Premium 12 months". From the Open API; null until hydrated.',
  })
  @Column({ type: 'text', nullable: true })
  rateName!: string | null;

  @Field(() => String, {
    nullable: true,
    description: 'ACTIVE or INACTIVE (new values may appear). From the Open API; null until hydrated.',
  })
  @Column({ type: 'text', nullable: true })
  contractStatus!: string | null;

  @Field(() => String, {
    nullable: true,
    description: 'The calendar date the contract was concluded upstream (ISO `2026-01-31`). From the Open API.',
  })
  @Column({ type: 'text', nullable: true })
  signedOn!: string | null;

  @Field(() => String, { nullable: true, description: 'First day of the contract (ISO calendar date). From the Open API.' })
  @Column({ type: 'text', nullable: true })
  startDate!: string | null;

  @Field(() => String, {
    nullable: true,
    description: 'Last day of the contract (ISO calendar date); null when open-ended or not hydrated.',
  })
  @Column({ type: 'text', nullable: true })
  endDate!: string | null;

  @Field(() => Boolean, {
    nullable: true,
    description: 'True once the contract has been cancelled (it may still run until `endDate`). From the Open API; null until hydrated.',
  })
  @Column({ type: 'boolean', nullable: true })
  cancelled!: boolean | null;

  @Field(() => String, { nullable: true, description: 'The calendar date the cancellation was made (ISO); null when not cancelled.' })
  @Column({ type: 'text', nullable: true })
  cancellationDate!: string | null;

  @Field(() => Int, { nullable: true, description: 'Length of the minimum term, in `termUnit`s (12 for "12 months").' })
  @Column({ type: 'integer', nullable: true })
  termValue!: number | null;

  @Field(() => String, { nullable: true, description: 'Unit of `termValue`: DAY, WEEK, MONTH or YEAR (as the operator sends it).' })
  @Column({ type: 'text', nullable: true })
  termUnit!: string | null;

  @Field(() => Float, { nullable: true, description: "The rate's regular price per billing period, in `basePriceCurrency`." })
  @Column({ type: 'double precision', nullable: true })
  basePriceAmount!: number | null;

  @Field(() => String, { nullable: true, description: 'ISO 4217 currency of `basePriceAmount`, e.g. EUR.' })
  @Column({ type: 'text', nullable: true })
  basePriceCurrency!: string | null;

  @Field(() => Float, {
    nullable: true,
    description: 'What the customer pays per billing period now (after discounts), in `currentPriceCurrency`.',
  })
  @Column({ type: 'double precision', nullable: true })
  currentPriceAmount!: number | null;

  @Field(() => String, { nullable: true, description: 'ISO 4217 currency of `currentPriceAmount`.' })
  @Column({ type: 'text', nullable: true })
  currentPriceCurrency!: string | null;

  @Field(() => Date, { nullable: true, description: 'When the fields above were last read from the upstream Open API; null if never.' })
  @TimeColumn({ nullable: true })
  hydratedAt!: Date | null;
}
