import { Field, ID, Int, ObjectType } from 'type-graphql';
import { Column, Entity, Index } from 'typeorm';
import { IdColumn, TimeColumn, int64 } from '../../db/columns.js';
import { TABLES } from '../../db/tables.js';

/**
 * The event log: every element of every accepted webhook delivery, known type or not, in the order
 * it was committed. `seq` is strictly increasing in commit order (see ingest/ingestor.ts), so it
 * serves as a stream cursor.
 */
@ObjectType('Event', {
  simpleResolvers: true,
  description:
    'One element of one webhook delivery, exactly as the operator sent it, in the order this service committed it. ' +
    'The log is append-only: events of types this service does not know are kept too (`known: false`).',
})
@Entity(TABLES.events)
@Index('events_delivery_key', ['tenantId', 'uuid', 'position'], { unique: true })
@Index('events_entity', ['tenantId', 'entityId', 'occurredAt'])
@Index('events_studio_seq', ['studioId', 'seq'])
@Index('events_type_seq', ['type', 'seq'])
export class EventRecord {
  // `integer` because SQLite autoincrements only an INTEGER PRIMARY KEY (64-bit there anyway);
  // the PostgreSQL migration makes it BIGSERIAL.
  @Field(() => ID, {
    description:
      'Position in the log: strictly increasing in the order events were committed, with gaps. Use it to resume reading where you stopped.',
  })
  @Column({ type: 'integer', primary: true, generated: 'increment', transformer: int64 })
  seq!: number;

  /**
   * The delivery's `uuid` (lower case): the upstream idempotency key, unique per tenant. The same
   * event delivered to two studios of one operator is one event, logged once.
   */
  @Field({
    description: "The delivery's uuid (lower case), the operator's idempotency key: a re-delivery with the same uuid is not logged again.",
  })
  @Column({ type: 'varchar', length: 36 })
  uuid!: string;

  /** Index of this element in the delivery's `payload` array. */
  @Field(() => Int, { description: 'Index of this event in the delivery (0 for the first; a delivery may carry several events).' })
  @Column({ type: 'integer' })
  position!: number;

  @Field(() => ID, { description: 'The studio whose webhook delivered the event (see `studio`).' })
  @Column({ type: 'integer' })
  studioId!: number;

  @Column({ type: 'integer' })
  tenantId!: number;

  @Field({
    description: 'The event type as the operator sent it, e.g. CUSTOMER_CHECKIN (the `eventTypes` query lists those this service applies).',
  })
  @Column({ type: 'varchar', length: 100 })
  type!: string;

  /** False for types this version does not know: stored, but applied to no record. */
  @Field({
    description:
      'True when this service knows the type and applied the event to its records; false for a type it does not know (kept, applied to nothing).',
  })
  @Column({ type: 'boolean' })
  known!: boolean;

  @Field(() => ID, {
    description:
      'The upstream id the event is about; what it names depends on `type` (a customer for CUSTOMER_*, CONTRACT_* and AGGREGATOR_*, a booking for *_BOOKING_*, a class slot for CLASS_SLOT_*, ...).',
  })
  @IdColumn()
  entityId!: number;

  /** `payload[].content` as received (JSON text), or null when absent. */
  @Column({ type: 'text', nullable: true })
  content!: string | null;

  /** `payload[].timestamp`: when it happened upstream. */
  @Field({ description: "When it happened, by the operator's clock (the event's `timestamp`)." })
  @TimeColumn()
  occurredAt!: Date;

  @Field({ description: 'When this service received and committed the delivery.' })
  @TimeColumn()
  receivedAt!: Date;

  /**
   * SHA-256 (hex) of the delivery's entityId and normalised payload (ingest/delivery.ts
   * `deliveryDigest`), the same on each of its rows: a re-delivery of the uuid with another digest
   * is refused (409). Null on rows logged before migration 1764000000004 and on events hydration
   * logs; for those it is rebuilt from the rows when needed. Not in the API.
   */
  @Column({ type: 'varchar', length: 64, nullable: true })
  digest!: string | null;
}

/** The log keeps `content` as JSON text; the webhook validator stores only objects there. */
export function parseContent(text: string | null): Record<string, unknown> | null {
  if (text === null) return null;
  const value: unknown = JSON.parse(text);
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
}
