import { Field, ID, ObjectType } from 'type-graphql';
import { Entity, Index } from 'typeorm';
import { IdColumn, TimeColumn } from '../../db/columns.js';
import { TenantRecord } from '../../db/tenant-record.js';

/** A customer's contract (`content.contractId` of CONTRACT_CREATED / CONTRACT_UPDATED). */
@ObjectType({
  description:
    "A customer's membership contract, as the contract webhooks (CONTRACT_CREATED / CONTRACT_UPDATED) have told us. " +
    'Rate, term and price are not in the webhooks; they come with hydration from the upstream Open API.',
})
@Entity('contracts')
@Index('contracts_key', ['tenantId', 'contractId'], { unique: true })
@Index('contracts_customer', ['tenantId', 'customerId'])
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
}
