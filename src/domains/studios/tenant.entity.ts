import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import { TimeColumn } from '../../db/columns.js';
import { TABLES } from '../../db/tables.js';

/**
 * An operator: one PerfectGym Next installation, known by its Open API base URL. Upstream ids
 * (customers, bookings, ...) are unique within a tenant, so every record is keyed by tenant.
 * A studio registered without a tenant URL gets a tenant of its own.
 */
@Entity(TABLES.tenants)
export class Tenant {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column({ type: 'varchar', length: 200 })
  name!: string;

  /** Normalised Open API base URL, e.g. `https://acme.open-api.perfectgym.com/v1`; null for a private tenant. */
  @Index('tenants_base_url', { unique: true })
  @Column({ type: 'varchar', length: 500, nullable: true })
  baseUrl!: string | null;

  @TimeColumn()
  createdAt!: Date;
}
