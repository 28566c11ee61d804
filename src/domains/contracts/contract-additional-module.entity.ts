import { Field, Float, ID, ObjectType } from 'type-graphql';
import { Column, Entity, Index } from 'typeorm';
import { IdColumn, TimeColumn } from '../../db/columns.js';
import { TenantRecord } from '../../db/tenant-record.js';
import { TABLES } from '../../db/tables.js';

/** What the latest CONTRACT_ADDITIONAL_MODULE_* event says (a tie: DELETED over CANCELLED over ACTIVE). */
export type AdditionalModuleStatus = 'ACTIVE' | 'CANCELLED' | 'DELETED';

/**
 * An add-on module of a contract (`content.moduleContractId` of the CONTRACT_ADDITIONAL_MODULE_*
 * events). A deleted module stays, as a tombstone (status DELETED): removing the row would let a
 * late CREATED or UPDATED bring it back, and a subscriber of the deletion could not load it.
 */
@ObjectType({
  simpleResolvers: true,
  description:
    'An add-on module of a contract (a module is a contract of its own, under the main contract), as the CONTRACT_ADDITIONAL_MODULE_* webhooks have told us. ' +
    'A deleted module is kept with status DELETED. Rate, dates and price come with hydration from the upstream Open API.',
})
@Entity(TABLES.contract_additional_modules)
@Index('contract_additional_modules_key', ['tenantId', 'moduleContractId'], { unique: true })
@Index('contract_additional_modules_contract', ['tenantId', 'contractId'])
export class ContractAdditionalModule extends TenantRecord {
  @Field(() => ID, { description: "The module's own upstream contract id: `content.moduleContractId` of the module events." })
  @IdColumn()
  moduleContractId!: number;

  @Field(() => ID, { description: 'The upstream id of the main contract (`content.contractId` of the latest module event).' })
  @IdColumn()
  contractId!: number;

  @Field(() => ID, { description: 'The upstream id of the customer holding the contract (the `entityId` of the latest module event).' })
  @IdColumn()
  customerId!: number;

  @Field(() => String, {
    description:
      'What the latest module event says: ACTIVE (created or changed), CANCELLED (it may run on to its end date) or DELETED (gone upstream; kept here as a tombstone). ' +
      'Events at the same time: DELETED wins over CANCELLED, CANCELLED over ACTIVE.',
  })
  @Column({ type: 'varchar', length: 16 })
  status!: AdditionalModuleStatus;

  @Field({ description: 'When the event that decided `status` happened upstream.' })
  @TimeColumn()
  statusAt!: Date;

  @Field(() => Date, {
    nullable: true,
    description: 'When the module was added upstream (CONTRACT_ADDITIONAL_MODULE_CREATED), if that event arrived.',
  })
  @TimeColumn({ nullable: true })
  createdAt!: Date | null;

  @Field(() => Date, {
    nullable: true,
    description: 'When the module last changed upstream (the latest CONTRACT_ADDITIONAL_MODULE_UPDATED).',
  })
  @TimeColumn({ nullable: true })
  updatedAt!: Date | null;

  @Field(() => Date, {
    nullable: true,
    description: 'When the module was cancelled upstream (the latest CONTRACT_ADDITIONAL_MODULE_CANCELLED).',
  })
  @TimeColumn({ nullable: true })
  cancelledAt!: Date | null;

  @Field(() => Date, {
    nullable: true,
    description: 'When the module was deleted upstream (the latest CONTRACT_ADDITIONAL_MODULE_DELETED).',
  })
  @TimeColumn({ nullable: true })
  deletedAt!: Date | null;

  // Hydrated from the Open API (the module in the main contract's entry of the customer's contract list); null until then.

  @Field(() => String, {
    nullable: true,
    description: 'The name of the module\'s rate, e.g. "Sauna". From the Open API; null until hydrated.',
  })
  @Column({ type: 'text', nullable: true })
  rateName!: string | null;

  @Field(() => String, {
    nullable: true,
    description: 'The upstream status of the module contract: ACTIVE or INACTIVE (new values may appear). From the Open API.',
  })
  @Column({ type: 'text', nullable: true })
  contractStatus!: string | null;

  @Field(() => String, { nullable: true, description: 'First day of the module (ISO calendar date). From the Open API.' })
  @Column({ type: 'text', nullable: true })
  startDate!: string | null;

  @Field(() => String, { nullable: true, description: 'Last day of the module (ISO calendar date). From the Open API.' })
  @Column({ type: 'text', nullable: true })
  endDate!: string | null;

  @Field(() => Boolean, {
    nullable: true,
    description: 'True once the module has been cancelled, as the Open API says; null until hydrated.',
  })
  @Column({ type: 'boolean', nullable: true })
  cancelled!: boolean | null;

  @Field(() => String, { nullable: true, description: 'The calendar date the module was cancelled (ISO); null when not cancelled.' })
  @Column({ type: 'text', nullable: true })
  cancellationDate!: string | null;

  @Field(() => Float, { nullable: true, description: "The module's price per billing period, in `priceCurrency`." })
  @Column({ type: 'double precision', nullable: true })
  priceAmount!: number | null;

  @Field(() => String, { nullable: true, description: 'ISO 4217 currency of `priceAmount`.' })
  @Column({ type: 'text', nullable: true })
  priceCurrency!: string | null;

  @Field(() => Date, { nullable: true, description: 'When the fields above were last read from the upstream Open API; null if never.' })
  @TimeColumn({ nullable: true })
  hydratedAt!: Date | null;
}
