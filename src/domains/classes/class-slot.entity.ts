import { Column, Entity, Index } from 'typeorm';
import { IdColumn, TimeColumn } from '../../db/columns.js';
import { TenantRecord } from '../../db/tenant-record.js';

export const CLASS_SLOT_STATUSES = ['SCHEDULED', 'CANCELLED'] as const;
export type ClassSlotStatus = (typeof CLASS_SLOT_STATUSES)[number];

/** One scheduled occurrence of a class (CLASS_SLOT_*; entityId is the slot id, content.classId its class). */
@Entity('class_slots')
@Index('class_slots_key', ['tenantId', 'slotId'], { unique: true })
@Index('class_slots_class', ['tenantId', 'classId'])
export class ClassSlot extends TenantRecord {
  @IdColumn()
  slotId!: number;

  /** The class named by the latest event about this slot. */
  @IdColumn()
  classId!: number;

  /** Decided by the latest event; on equal upstream times a cancellation wins. */
  @Column({ type: 'varchar', length: 16 })
  status!: ClassSlotStatus;

  @TimeColumn()
  statusAt!: Date;

  /** Upstream time of the latest CLASS_SLOT_UPDATED. */
  @TimeColumn({ nullable: true })
  updatedAt!: Date | null;

  /** Upstream time of the latest CLASS_SLOT_CANCELLED. */
  @TimeColumn({ nullable: true })
  cancelledAt!: Date | null;
}
