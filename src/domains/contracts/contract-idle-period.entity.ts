import { Field, ID, Int, ObjectType } from 'type-graphql';
import { Column, Entity, Index } from 'typeorm';
import { IdColumn, TimeColumn } from '../../db/columns.js';
import { TenantRecord } from '../../db/tenant-record.js';
import { TABLES } from '../../db/tables.js';

/** ACTIVE until a CONTRACT_IDLE_PERIOD_CANCELLED is the latest event about the pause. */
export type IdlePeriodStatus = 'ACTIVE' | 'CANCELLED';

/** A pause of a contract (`content.idlePeriodId` of the CONTRACT_IDLE_PERIOD_* events). */
@ObjectType({
  simpleResolvers: true,
  description:
    'A pause (idle period) of a contract, as the CONTRACT_IDLE_PERIOD_CREATED / _UPDATED / _CANCELLED webhooks have told us. ' +
    "Its dates and whether it is unlimited come with hydration from the upstream Open API (the customer's contract list).",
})
@Entity(TABLES.contract_idle_periods)
@Index('contract_idle_periods_key', ['tenantId', 'idlePeriodId'], { unique: true })
@Index('contract_idle_periods_contract', ['tenantId', 'contractId'])
export class ContractIdlePeriod extends TenantRecord {
  @Field(() => ID, { description: 'The upstream idle period id: `content.idlePeriodId` of the idle period events.' })
  @IdColumn()
  idlePeriodId!: number;

  @Field(() => ID, { description: 'The upstream id of the paused contract (`content.contractId` of the latest idle period event).' })
  @IdColumn()
  contractId!: number;

  @Field(() => ID, {
    description: 'The upstream id of the customer holding the contract (the `entityId` of the latest idle period event).',
  })
  @IdColumn()
  customerId!: number;

  @Field(() => String, {
    description:
      'ACTIVE, or CANCELLED when the latest event about the pause is CONTRACT_IDLE_PERIOD_CANCELLED (a cancellation wins a tie).',
  })
  @Column({ type: 'varchar', length: 16 })
  status!: IdlePeriodStatus;

  /** Upstream time of the event that set `status`. */
  @Field({ description: 'When the event that decided `status` happened upstream.' })
  @TimeColumn()
  statusAt!: Date;

  @Field(() => Date, {
    nullable: true,
    description: 'When the pause was created upstream (CONTRACT_IDLE_PERIOD_CREATED), if that event arrived.',
  })
  @TimeColumn({ nullable: true })
  createdAt!: Date | null;

  @Field(() => Date, { nullable: true, description: 'When the pause last changed upstream (the latest CONTRACT_IDLE_PERIOD_UPDATED).' })
  @TimeColumn({ nullable: true })
  updatedAt!: Date | null;

  @Field(() => Date, { nullable: true, description: 'When the pause was cancelled upstream (the latest CONTRACT_IDLE_PERIOD_CANCELLED).' })
  @TimeColumn({ nullable: true })
  cancelledAt!: Date | null;

  @Field(() => Int, {
    nullable: true,
    description:
      "The length of the pause in the upstream's unit (`content.idlePeriodAmount` of the latest event); null when that event had none (an unlimited pause).",
  })
  @Column({ type: 'integer', nullable: true })
  idlePeriodAmount!: number | null;

  @Field(() => Int, {
    nullable: true,
    description: 'Free days the pause uses (`content.usedFreeTermsInDays` of the latest event); null when that event had none.',
  })
  @Column({ type: 'integer', nullable: true })
  usedFreeTermsInDays!: number | null;

  // Hydrated from the Open API (the pause in the customer's contract list); null until then. A cancelled pause is no longer listed there.

  @Field(() => String, {
    nullable: true,
    description: 'First day of the pause (ISO calendar date). From the Open API; null until hydrated.',
  })
  @Column({ type: 'text', nullable: true })
  startDate!: string | null;

  @Field(() => String, { nullable: true, description: 'Last day of the pause (ISO calendar date); null when unlimited or not hydrated.' })
  @Column({ type: 'text', nullable: true })
  endDate!: string | null;

  @Field(() => Boolean, { nullable: true, description: 'True when the pause has no end. From the Open API; null until hydrated.' })
  @Column({ type: 'boolean', nullable: true })
  unlimited!: boolean | null;

  @Field(() => Date, { nullable: true, description: 'When the fields above were last read from the upstream Open API; null if never.' })
  @TimeColumn({ nullable: true })
  hydratedAt!: Date | null;
}
