import type { Param, SqlTx } from '../db/sql-writer.js';
import type { TableName } from '../db/tables.js';

/** The records hydration writes, as named in GYMGRAPH_RECORD_HYDRATED's `content.record`. */
export const HYDRATED_RECORD_KINDS = [
  'customer',
  'communicationPreferences',
  'contract',
  'classBooking',
  'classSlot',
  'class',
  'appointmentBooking',
  'device',
  'debtCollectionRun',
  'taxAdvisorExport',
  'studio',
  'employee',
] as const;
export type HydratedRecordKind = (typeof HYDRATED_RECORD_KINDS)[number];

/** One record a job changed. */
export interface RecordChange {
  readonly record: HydratedRecordKind;
  /** The record's upstream id (the customer id for communication preferences, the upstream studio id for a studio). */
  readonly entityId: number;
  /** Columns whose value changed (`hydratedAt` aside). */
  readonly changed: readonly string[];
  /** True when the change erased personal data. */
  readonly erased: boolean;
}

/**
 * Sameness of a stored value and a new one across dialects: SQLite gives booleans as 0/1, and
 * every number type comes back as a number or a numeric string.
 */
function same(stored: unknown, value: Param): boolean {
  if (value === null || stored === null || stored === undefined) return value === null && (stored === null || stored === undefined);
  if (typeof value === 'boolean') return Boolean(Number(stored)) === value;
  if (typeof value === 'number') return Number(stored) === value;
  return String(stored) === value;
}

const quote = (column: string) => `"${column}"`;

/**
 * Writes `values` (and `hydratedAt`, when the table has it) into the row of `table` that `key`
 * names. Returns the columns whose value changed, or null when there is no such row (hydration fills
 * records, it does not invent them).
 */
export async function updateRecord(
  tx: SqlTx,
  table: TableName,
  key: Readonly<Record<string, number>>,
  values: Readonly<Record<string, Param>>,
  hydratedAt: number | null,
): Promise<string[] | null> {
  const columns = Object.keys(values);
  const where = Object.keys(key)
    .map((column) => `${quote(column)} = ?`)
    .join(' AND ');
  const keyValues = Object.values(key);
  const [row] = await tx.all<Record<string, unknown>>(
    `SELECT ${['"id"', ...columns.map(quote)].join(', ')} FROM ${table} WHERE ${where}`,
    keyValues,
  );
  if (!row) return null;
  const changed = columns.filter((column) => !same(row[column], values[column]!));
  const set = [...columns, ...(hydratedAt === null ? [] : ['hydratedAt'])];
  if (set.length > 0 && (changed.length > 0 || hydratedAt !== null)) {
    await tx.run(`UPDATE ${table} SET ${set.map((c) => `${quote(c)} = ?`).join(', ')} WHERE "id" = ?`, [
      ...columns.map((c) => values[c]!),
      ...(hydratedAt === null ? [] : [hydratedAt]),
      Number(row['id']),
    ]);
  }
  return changed;
}
