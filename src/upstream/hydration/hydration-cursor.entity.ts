import { Entity, PrimaryColumn } from 'typeorm';
import { IdColumn } from '../../db/columns.js';
import { TABLES } from '../../db/tables.js';

/**
 * How far a reader of the event log has got: the hydration scanner's `seq`. Advanced in the same
 * transaction as the jobs it queued, so after a crash the scan resumes exactly where it stopped.
 */
@Entity(TABLES.log_cursors)
export class LogCursor {
  @PrimaryColumn({ type: 'varchar', length: 32 })
  name!: string;

  @IdColumn()
  seq!: number;
}
