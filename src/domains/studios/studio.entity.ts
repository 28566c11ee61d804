import { Field, ID, Int, ObjectType } from 'type-graphql';
import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { IdColumn, TimeColumn } from '../../db/columns.js';
import { Tenant } from './tenant.entity.js';
import { TABLES } from '../../db/tables.js';

export const STUDIO_STATUSES = ['active', 'disabled'] as const;
export type StudioStatus = (typeof STUDIO_STATUSES)[number];

/** One gym location whose integration is active; webhooks are matched to it by their `X-API-KEY`. */
@ObjectType({ simpleResolvers: true, description: 'A gym location whose webhooks this service receives. Its keys are never exposed.' })
@Entity(TABLES.studios)
export class Studio {
  @Field(() => ID, { description: 'Our studio id (what tokens are scoped to).' })
  @PrimaryGeneratedColumn()
  id!: number;

  @Field(() => Int, { description: 'The operator (tenant) the studio belongs to.' })
  @Column({ type: 'integer' })
  tenantId!: number;

  @ManyToOne(() => Tenant, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'tenantId', foreignKeyConstraintName: 'studios_tenant' })
  tenant?: Tenant;

  @Field({ description: 'The name the operator registered.' })
  @Column({ type: 'varchar', length: 200 })
  name!: string;

  /**
   * SHA-256 (hex) of the webhook key the upstream sends. The key itself is never stored, so it
   * cannot be read back; upstream keys are long random strings, so an unsalted hash is safe and
   * lets us find the studio with an index.
   */
  @Index('studios_webhook_key', { unique: true })
  @Column({ type: 'varchar', length: 64 })
  webhookKeyHash!: string;

  /** Open API key for hydration (later): must be sent upstream, so it is kept, never exposed. */
  @Column({ type: 'varchar', length: 500, nullable: true })
  apiKey!: string | null;

  @Field(() => String, { description: '`active`, or `disabled` (its webhooks are refused).' })
  @Column({ type: 'varchar', length: 16, default: 'active' })
  status!: StudioStatus;

  /** IANA name, checked with Intl when set (studio.service.ts); null until the operator sets it. */
  @Field(() => String, {
    nullable: true,
    description: 'The IANA time zone of the studio, e.g. "Europe/Berlin", as the operator registered it; null when not set (use your own).',
  })
  @Column({ type: 'varchar', length: 64, nullable: true })
  timeZone!: string | null;

  @Field({ description: 'When the studio was registered here.' })
  @TimeColumn()
  createdAt!: Date;

  @TimeColumn()
  updatedAt!: Date;

  // What the studio events and the studio-information read add (src/domains/studios/studio.area.ts).

  /**
   * The studio's id upstream, learnt from `GET /v1/studios/information` with its Open API key; null
   * until read. Studio events whose entityId is another id are not applied (studio.area.ts).
   */
  @Field(() => ID, {
    nullable: true,
    description: "The studio's own id upstream (what the studio events carry as entityId), as read from the Open API; null until read.",
  })
  @IdColumn({ nullable: true })
  upstreamStudioId!: number | null;

  @Field(() => Date, {
    nullable: true,
    description: 'When the opening hours last changed upstream (the latest STUDIO_OPENING_HOURS_UPDATED); null if never announced.',
  })
  @TimeColumn({ nullable: true })
  openingHoursUpdatedAt!: Date | null;

  @Field(() => Date, {
    nullable: true,
    description:
      'When the custom customer fields last changed upstream (the latest ADDITIONAL_INFORMATION_FIELDS_UPDATED); null if never announced.',
  })
  @TimeColumn({ nullable: true })
  additionalInformationFieldsUpdatedAt!: Date | null;

  /** JSON of {@link StudioOpeningHours}[] as read from the Open API; null until read. Exposed by `openingHours`. */
  @Column({ type: 'text', nullable: true })
  openingHoursJson!: string | null;

  /** JSON of `{reason, from, to}` (epoch ms) as read from the Open API; null until read. Exposed by `closingHours`. */
  @Column({ type: 'text', nullable: true })
  closingHoursJson!: string | null;

  @Field(() => Date, {
    nullable: true,
    description: "When the studio's information (opening hours, closures) was last read from the upstream Open API; null if never.",
  })
  @TimeColumn({ nullable: true })
  hydratedAt!: Date | null;
}
