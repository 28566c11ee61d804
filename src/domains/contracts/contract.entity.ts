import { Entity, Index } from 'typeorm';
import { IdColumn, TimeColumn } from '../../db/columns.js';
import { TenantRecord } from '../../db/tenant-record.js';

/** A customer's contract (`content.contractId` of CONTRACT_CREATED / CONTRACT_UPDATED). */
@Entity('contracts')
@Index('contracts_key', ['tenantId', 'contractId'], { unique: true })
@Index('contracts_customer', ['tenantId', 'customerId'])
export class Contract extends TenantRecord {
  @IdColumn()
  contractId!: number;

  /** The customer named by the latest event about this contract. */
  @IdColumn()
  customerId!: number;

  /** Upstream time of CONTRACT_CREATED, if it arrived. */
  @TimeColumn({ nullable: true })
  createdAt!: Date | null;

  /** Upstream time of the latest CONTRACT_UPDATED. */
  @TimeColumn({ nullable: true })
  updatedAt!: Date | null;
}
