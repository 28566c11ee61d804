import { Entity, Index } from 'typeorm';
import { IdColumn, TimeColumn } from '../../db/columns.js';
import { TenantRecord } from '../../db/tenant-record.js';

/** A card reader, vending reader or time reader (DEVICE_CREATED). */
@Entity('devices')
@Index('devices_key', ['tenantId', 'deviceId'], { unique: true })
export class Device extends TenantRecord {
  @IdColumn()
  deviceId!: number;

  @TimeColumn()
  createdAt!: Date;
}
