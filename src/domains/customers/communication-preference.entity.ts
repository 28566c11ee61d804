import { Field, ID, ObjectType } from 'type-graphql';
import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import { IdColumn } from '../../db/columns.js';
import { TABLES } from '../../db/tables.js';

@ObjectType({ simpleResolvers: true, description: 'One way of reaching a customer, and whether they agreed to it.' })
export class CommunicationChannelConsent {
  @Field({ description: 'LETTER, EMAIL, TEXT_MESSAGE, PHONE, ... (new values may appear).' })
  channel!: string;

  @Field(() => Boolean, {
    nullable: true,
    description: 'True: the customer agreed to be contacted this way for this category; false: refused; null: not recorded.',
  })
  active!: boolean | null;
}

/**
 * One category of messages a customer may receive and the channels they allow for it
 * (`GET /v1/communications/{customerId}/communication-preferences`). Personal data: all rows of a
 * customer are replaced on each hydration and deleted when the customer is gone.
 */
@ObjectType({
  simpleResolvers: true,
  description: 'What a customer agreed to receive, for one category of messages, and through which channels.',
})
@Entity(TABLES.communication_preferences)
@Index('communication_preferences_customer', ['tenantId', 'customerId', 'position'], { unique: true })
export class CommunicationPreference {
  @Field(() => ID, { description: 'Our id for this row (replaced each time the preferences are read again).' })
  @PrimaryGeneratedColumn()
  id!: number;

  @Column({ type: 'integer' })
  tenantId!: number;

  @IdColumn()
  customerId!: number;

  /** Order in the upstream's answer. */
  @Column({ type: 'integer' })
  position!: number;

  @Field(() => String, {
    nullable: true,
    description: 'CONTRACT, GENERAL, APPOINTMENT, NEWSLETTER or LOYALTY_PROGRAM (new values may appear); null when the operator sent none.',
  })
  @Column({ type: 'text', nullable: true })
  category!: string | null;

  /** JSON array of `{channel, active}`. */
  @Column({ type: 'text' })
  channelsJson!: string;

  @Field(() => [CommunicationChannelConsent], { description: 'The channels and whether each is allowed.' })
  get channels(): CommunicationChannelConsent[] {
    const parsed: unknown = JSON.parse(this.channelsJson);
    return Array.isArray(parsed) ? (parsed as CommunicationChannelConsent[]) : [];
  }
}
