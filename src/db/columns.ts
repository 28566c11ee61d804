import { Column, type ColumnOptions, type ValueTransformer } from 'typeorm';

/**
 * Times are stored as epoch milliseconds in a BIGINT on both databases: exact, compact, compared and
 * bucketed by the same SQL on SQLite and PostgreSQL. Entities see `Date`.
 */
export const epochMs: ValueTransformer = {
  to: (value: Date | null | undefined) => (value == null ? value : value.getTime()),
  from: (value: string | number | null) => (value == null ? null : new Date(Number(value))),
};

/**
 * Upstream ids are int64. PostgreSQL returns BIGINT as a string; we keep them as JS numbers, which the
 * webhook validator guarantees are safe integers.
 */
export const int64: ValueTransformer = {
  to: (value: number | null | undefined) => value,
  from: (value: string | number | null) => (value == null ? null : Number(value)),
};

/** A time column (epoch ms BIGINT, `Date` in code). */
export function TimeColumn(options: ColumnOptions = {}): PropertyDecorator {
  return Column({ type: 'bigint', transformer: epochMs, ...options });
}

/** An upstream id column (BIGINT, `number` in code). */
export function IdColumn(options: ColumnOptions = {}): PropertyDecorator {
  return Column({ type: 'bigint', transformer: int64, ...options });
}
