import { Column, Entity, PrimaryColumn } from 'typeorm';
import { int64 } from '../../db/columns.js';
import { TABLES } from '../../db/tables.js';

/**
 * Sums of the visits whose check-in falls in one quarter hour (UTC) at one studio: what a GROUP BY
 * over `visits` gives for that (studio, quarter hour), kept in the ingest transaction (visit-rollup.ts).
 * The studio implies the tenant; `tenantId` is kept for reading by operator.
 */
@Entity(TABLES.visit_rollups)
export class VisitRollup {
  @PrimaryColumn({ type: 'integer' })
  studioId!: number;

  /** Epoch ms of the quarter hour's start. */
  @PrimaryColumn({ type: 'bigint', transformer: int64 })
  bucket!: number;

  @Column({ type: 'integer' })
  tenantId!: number;

  /** Visits checked in (all of them: open or closed). */
  @Column({ type: 'integer' })
  visits!: number;

  /** Visits closed by a check-out. */
  @Column({ type: 'integer' })
  closed!: number;

  /** Sum of the closed visits' lengths of stay, ms. */
  @Column({ type: 'bigint', transformer: int64 })
  durationMs!: number;

  /** Closed visits whose check-out another studio delivered (a token restricted to some studios may not see it). */
  @Column({ type: 'integer' })
  closedAway!: number;

  @Column({ type: 'bigint', transformer: int64 })
  durationAwayMs!: number;

  /** Closed visits per length-of-stay bin (visit-rollup.ts STAY_BOUNDS_MS). */
  @Column({ type: 'integer' }) stay0!: number;
  @Column({ type: 'integer' }) stay1!: number;
  @Column({ type: 'integer' }) stay2!: number;
  @Column({ type: 'integer' }) stay3!: number;
  @Column({ type: 'integer' }) stay4!: number;
  @Column({ type: 'integer' }) stay5!: number;
  @Column({ type: 'integer' }) stay6!: number;
  @Column({ type: 'integer' }) stay7!: number;
}
