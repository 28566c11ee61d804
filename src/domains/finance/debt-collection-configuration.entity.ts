import { Field, ID, ObjectType } from 'type-graphql';
import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import { IdColumn, TimeColumn } from '../../db/columns.js';
import { TABLES } from '../../db/tables.js';

/** A studio's debt-collection settings, as far as FINANCE_DEBT_COLLECTION_CONFIGURATION_UPDATED tells (one row per studio). */
@ObjectType({
  simpleResolvers: true,
  description:
    "What is known of a studio's debt-collection settings: when they last changed upstream (FINANCE_DEBT_COLLECTION_CONFIGURATION_UPDATED). " +
    "The settings themselves have no read in the Open API, and the upstream does not say what the event's entityId identifies: it is kept as it came.",
})
@Entity(TABLES.debt_collection_configurations)
@Index('debt_collection_configurations_key', ['studioId'], { unique: true })
export class DebtCollectionConfiguration {
  @Field(() => ID, { description: 'Our id for this record.' })
  @PrimaryGeneratedColumn()
  id!: number;

  @Column({ type: 'integer' })
  tenantId!: number;

  @Field(() => ID, { description: 'The studio whose settings changed (the one whose webhook key delivered the events).' })
  @Column({ type: 'integer' })
  studioId!: number;

  @Field({ description: 'When the earliest change was announced, in upstream time.' })
  @TimeColumn()
  firstEventAt!: Date;

  @Field({ description: 'When the settings last changed upstream (the latest event, by upstream time).' })
  @TimeColumn()
  lastEventAt!: Date;

  @Field(() => ID, { description: "The latest event's `entityId`, as it came: the upstream does not say what it identifies." })
  @IdColumn()
  latestEntityId!: number;
}
