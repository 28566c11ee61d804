import { Column, Entity, Index } from 'typeorm';
import { IdColumn, TimeColumn, int64 } from '../../db/columns.js';

/**
 * The event log: every element of every accepted webhook delivery, known type or not, in the order
 * it was committed. `seq` is strictly increasing in commit order (see ingest/event-store.ts), so it
 * serves as a stream cursor.
 */
@Entity('events')
@Index('events_delivery_key', ['tenantId', 'uuid', 'position'], { unique: true })
@Index('events_entity', ['tenantId', 'entityId', 'occurredAt'])
@Index('events_studio_seq', ['studioId', 'seq'])
@Index('events_type_seq', ['type', 'seq'])
export class EventRecord {
  // `integer` because SQLite autoincrements only an INTEGER PRIMARY KEY (64-bit there anyway);
  // the PostgreSQL migration makes it BIGSERIAL.
  @Column({ type: 'integer', primary: true, generated: 'increment', transformer: int64 })
  seq!: number;

  /**
   * The delivery's `uuid` (lower case): the upstream idempotency key, unique per tenant. The same
   * event delivered to two studios of one operator is one event, logged once.
   */
  @Column({ type: 'varchar', length: 36 })
  uuid!: string;

  /** Index of this element in the delivery's `payload` array. */
  @Column({ type: 'integer' })
  position!: number;

  @Column({ type: 'integer' })
  studioId!: number;

  @Column({ type: 'integer' })
  tenantId!: number;

  @Column({ type: 'varchar', length: 100 })
  type!: string;

  /** False for types this version does not know: stored, but applied to no record. */
  @Column({ type: 'boolean' })
  known!: boolean;

  @IdColumn()
  entityId!: number;

  /** `payload[].content` as received (JSON text), or null when absent. */
  @Column({ type: 'text', nullable: true })
  content!: string | null;

  /** `payload[].timestamp`: when it happened upstream. */
  @TimeColumn()
  occurredAt!: Date;

  @TimeColumn()
  receivedAt!: Date;
}
