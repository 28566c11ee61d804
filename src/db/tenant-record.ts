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

/**
 * The {@link TenantRecord} columns of a row projected from one event. A type, not an interface:
 * rows need the implicit index signature RecordRow (record-batch.ts) asks for.
 */
export type TenantRecordColumns = {
  tenantId: number;
  studioId: number;
  firstEventAt: number;
  lastEventAt: number;
};

/**
 * A row projected from one event: the {@link TenantRecord} columns, then `columns`.
 *
 * Built with Object.assign rather than as `{ ...tenantRecordRow(event), ...more }`: V8 (Node 20)
 * gives an object spread from a small one and then given more properties in the same literal new
 * hidden classes every time, allocates it several times over, and keeps it through young-generation
 * collections (measured: ~1.4 KB of every six-column booking row survived one; see bench/README.md,
 * "What survived the young collections"). Rows are made for every event, so this is the hot path.
 */
export function tenantRecordRow<C extends object>(
  event: { tenantId: number; studioId: number; occurredAt: number },
  columns: C,
): TenantRecordColumns & C {
  const base: TenantRecordColumns = {
    tenantId: event.tenantId,
    studioId: event.studioId,
    firstEventAt: event.occurredAt,
    lastEventAt: event.occurredAt,
  };
  return Object.assign(base, columns);
}
