import { Field, ID, Int, ObjectType } from 'type-graphql';
import { Column, PrimaryGeneratedColumn } from 'typeorm';
import { TimeColumn } from './columns.js';

/**
 * Columns every record projected from events shares. Records are keyed by (tenantId, upstream id)
 * through a unique index on each entity; `id` is our own surrogate key.
 */
@ObjectType({ simpleResolvers: true })
export abstract class TenantRecord {
  @Field(() => ID, { description: 'Our id for this record (stable; use it with the single-record lookups).' })
  @PrimaryGeneratedColumn()
  id!: number;

  @Field(() => Int, { description: 'The operator (tenant) the record belongs to; upstream ids are unique within one operator.' })
  @Column({ type: 'integer' })
  tenantId!: number;

  /** The studio that delivered the earliest event about this record (by upstream time). */
  @Field(() => ID, { description: 'The studio that delivered the earliest event about this record.' })
  @Column({ type: 'integer' })
  studioId!: number;

  /** Upstream time of the earliest event applied to this record. */
  @Field({ description: 'When the earliest event about this record happened upstream.' })
  @TimeColumn()
  firstEventAt!: Date;

  /** Upstream time of the latest event applied to this record. */
  @Field({ description: 'When the latest event about this record happened upstream.' })
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
