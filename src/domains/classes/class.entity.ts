import { Field, ID, Int, ObjectType } from 'type-graphql';
import { Column, Entity, Index } from 'typeorm';
import { IdColumn, TimeColumn } from '../../db/columns.js';
import { TABLES } from '../../db/tables.js';

/**
 * A class offered by the operator (what a slot is an occurrence of). No webhook announces classes:
 * a row exists once a class was read from the Open API (`GET /v1/classes/{classId}`), for a slot
 * event or a booking that names it.
 */
@ObjectType('Class', {
  simpleResolvers: true,
  description:
    'A class the operator offers, such as "Yoga Basics"; its slots are the dated occurrences. ' +
    'Known once read from the upstream Open API for a class-slot event or a class booking that names it.',
})
@Entity(TABLES.classes)
@Index('classes_key', ['tenantId', 'classId'], { unique: true })
export class GymClass {
  @Field(() => ID, { description: 'Our id for this record (stable).' })
  @Column({ type: 'integer', primary: true, generated: 'increment' })
  id!: number;

  @Field(() => Int, { description: 'The operator (tenant) the class belongs to.' })
  @Column({ type: 'integer' })
  tenantId!: number;

  /** The studio whose Open API key read the class. */
  @Field(() => ID, { description: 'The studio through which the class was read.' })
  @Column({ type: 'integer' })
  studioId!: number;

  @Field(() => ID, { description: 'The upstream class id (unique within the operator): `content.classId` of the slot events.' })
  @IdColumn()
  classId!: number;

  @Field(() => String, { nullable: true, description: 'The title shown to customers, e.g. "Yoga Basics".' })
  @Column({ type: 'text', nullable: true })
  title!: string | null;

  @Field(() => String, { nullable: true, description: 'STUDIO (on site) or STREAM (online); new values may appear.' })
  @Column({ type: 'text', nullable: true })
  type!: string | null;

  @Field(() => Int, { nullable: true, description: 'Usual length of one slot, in minutes.' })
  @Column({ type: 'integer', nullable: true })
  durationMinutes!: number | null;

  @Field(() => String, { nullable: true, description: 'The category the operator files the class under, e.g. "Mind & Body".' })
  @Column({ type: 'text', nullable: true })
  category!: string | null;

  @Field(() => Boolean, { nullable: true, description: 'True when customers can book it themselves.' })
  @Column({ type: 'boolean', nullable: true })
  bookable!: boolean | null;

  @Field({ description: 'When the class was last read from the upstream Open API.' })
  @TimeColumn()
  hydratedAt!: Date;
}
