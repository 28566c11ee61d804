import { Field, ObjectType } from 'type-graphql';
import type { WallClock } from '../stats/time-buckets.js';
import type { LocalDay } from './report-input.js';

/** One studio's day at a glance; every number is its own statement, run only when selected. */
@ObjectType({ description: 'One studio at a glance on one local day (`studioSummary`): each number is counted only when asked for.' })
export class StudioSummary {
  @Field({ description: 'The local date of the "today" fields ("2026-01-14").' })
  date!: string;

  @Field({ description: 'The time zone of the date.' })
  timeZone!: string;

  studioId!: number;
  day!: LocalDay;
  today!: LocalDay;
  clock!: WallClock;
  /** The local day's first instant and the first after it, epoch ms. */
  from!: number;
  to!: number;
}
