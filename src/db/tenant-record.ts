import { Column, PrimaryGeneratedColumn } from 'typeorm';
import { TimeColumn } from './columns.js';

/**
 * Columns every record projected from events shares. Records are keyed by (tenantId, upstream id)
 * through a unique index on each entity; `id` is our own surrogate key.
 */
export abstract class TenantRecord {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column({ type: 'integer' })
  tenantId!: number;

  /** The studio that delivered the earliest event about this record (by upstream time). */
  @Column({ type: 'integer' })
  studioId!: number;

  /** Upstream time of the earliest event applied to this record. */
  @TimeColumn()
  firstEventAt!: Date;

  /** Upstream time of the latest event applied to this record. */
  @TimeColumn()
  lastEventAt!: Date;
}

/** Merge rules for the {@link TenantRecord} columns (see db/record-batch.ts). */
export const TENANT_RECORD_RULES = {
  tenantId: { kind: 'key' },
  studioId: { kind: 'follows', column: 'firstEventAt', order: 'min' },
  firstEventAt: { kind: 'min' },
  lastEventAt: { kind: 'max' },
} as const;

/** The {@link TenantRecord} columns of a row projected from one event. */
export function tenantRecordRow(event: { tenantId: number; studioId: number; occurredAt: number }) {
  return { tenantId: event.tenantId, studioId: event.studioId, firstEventAt: event.occurredAt, lastEventAt: event.occurredAt };
}
