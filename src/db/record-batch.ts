import type { Param, SqlTx } from './sql-writer.js';
import type { TableName } from './tables.js';

/**
 * How a column of a projected record combines two observations of it. Every rule is commutative
 * and idempotent, which is what makes projections safe under duplicates and out-of-order delivery:
 * applying events in any order, any number of times, gives the same record.
 */
export type MergeRule =
  /** Part of the record's natural key (the ON CONFLICT target). */
  | { readonly kind: 'key' }
  /** The earliest non-null value. */
  | { readonly kind: 'min' }
  /** The latest non-null value. */
  | { readonly kind: 'max' }
  /**
   * The value observed together with the smallest (`min`) or greatest (`max`) non-null `column`.
   * On a tie, `prefer` (if given) wins, otherwise the stored value stays; a list ranks its values,
   * the most preferred first (a value ranked higher wins a tie; values not listed rank lowest).
   */
  | { readonly kind: 'follows'; readonly column: string; readonly order: 'min' | 'max'; readonly prefer?: string | readonly string[] };

export type RecordRow = Record<string, Param>;

/** A table of projected records: its name and one merge rule per column. */
export interface RecordSpec<R extends RecordRow> {
  readonly table: TableName;
  readonly columns: { readonly [K in keyof R]: MergeRule };
}

const quote = (name: string) => `"${name}"`;

/** How much `value` is preferred on a tie: 0 when not listed, higher when listed earlier. */
function rank(prefer: readonly string[], value: Param): number {
  const index = typeof value === 'string' ? prefer.indexOf(value) : -1;
  return index < 0 ? 0 : prefer.length - index;
}

const preferred = (prefer: string | readonly string[]): readonly string[] => (typeof prefer === 'string' ? [prefer] : prefer);

function wins(order: 'min' | 'max', candidate: Param, current: Param): boolean {
  if (candidate === null) return false;
  if (current === null) return true;
  return order === 'max' ? candidate > current : candidate < current;
}

/** {@link rank} in SQL. */
function rankSql(prefer: readonly string[], value: string): string {
  return `(CASE ${value} ${prefer.map((v, i) => `WHEN '${v.replace(/'/g, "''")}' THEN ${prefer.length - i}`).join(' ')} ELSE 0 END)`;
}

/**
 * Collects partial rows for one table during a batch, merges rows with the same key in memory with
 * the spec's rules, then writes them with one upsert whose ON CONFLICT clause applies the same rules
 * against the stored row.
 */
export class RecordBatch<R extends RecordRow> {
  /** Made on the first row: most of a batch's record batches get none (one per record table, batch-projectors.ts). */
  private rows: Map<string, R> | undefined;
  private readonly shape: Shape<R>;

  constructor(private readonly spec: RecordSpec<R>) {
    let shape = shapes.get(spec) as Shape<R> | undefined;
    if (!shape) {
      const columnNames = Object.keys(spec.columns) as (keyof R & string)[];
      shape = { columnNames, keyNames: columnNames.filter((name) => spec.columns[name].kind === 'key') };
      shapes.set(spec, shape as unknown as Shape<RecordRow>);
    }
    this.shape = shape;
  }

  get size(): number {
    return this.rows?.size ?? 0;
  }

  add(row: R): void {
    const key = this.shape.keyNames.map((name) => String(row[name])).join('\u0000');
    const rows = (this.rows ??= new Map());
    const existing = rows.get(key);
    rows.set(key, existing ? this.merge(existing, row) : row);
  }

  private merge(current: R, incoming: R): R {
    const merged = { ...current };
    for (const name of this.shape.columnNames) {
      const rule: MergeRule = this.spec.columns[name];
      const a = current[name] as Param;
      const b = incoming[name] as Param;
      switch (rule.kind) {
        case 'key':
          break;
        case 'min':
        case 'max':
          merged[name] = (wins(rule.kind, b, a) ? b : a) as R[typeof name];
          break;
        case 'follows': {
          const ca = current[rule.column] as Param;
          const cb = incoming[rule.column] as Param;
          const tie =
            cb !== null && cb === ca && rule.prefer !== undefined && rank(preferred(rule.prefer), b) > rank(preferred(rule.prefer), a);
          if (wins(rule.order, cb, ca) || tie) merged[name] = b as R[typeof name];
          break;
        }
      }
    }
    return merged;
  }

  /** The ON CONFLICT assignment for one column, mirroring {@link merge}. */
  private assignment(name: string, rule: MergeRule): string | undefined {
    const stored = `${quote(this.spec.table)}.${quote(name)}`;
    const incoming = `excluded.${quote(name)}`;
    switch (rule.kind) {
      case 'key':
        return undefined;
      case 'min':
      case 'max': {
        const op = rule.kind === 'max' ? '>' : '<';
        return `${quote(name)} = CASE WHEN ${incoming} IS NULL THEN ${stored} WHEN ${stored} IS NULL THEN ${incoming} WHEN ${incoming} ${op} ${stored} THEN ${incoming} ELSE ${stored} END`;
      }
      case 'follows': {
        const op = rule.order === 'max' ? '>' : '<';
        const storedBy = `${quote(this.spec.table)}.${quote(rule.column)}`;
        const incomingBy = `excluded.${quote(rule.column)}`;
        const tie =
          rule.prefer === undefined
            ? ''
            : ` OR (${incomingBy} = ${storedBy} AND ${rankSql(preferred(rule.prefer), incoming)} > ${rankSql(preferred(rule.prefer), stored)})`;
        return `${quote(name)} = CASE WHEN ${incomingBy} IS NOT NULL AND (${storedBy} IS NULL OR ${incomingBy} ${op} ${storedBy}${tie}) THEN ${incoming} ELSE ${stored} END`;
      }
    }
  }

  /** Writes every collected row (one upsert statement, or one per row on SQLite) and clears the batch. */
  write(tx: SqlTx): void {
    if (!this.rows?.size) return;
    const { shape } = this;
    const names = shape.columnNames;
    shape.head ??= `INSERT INTO ${quote(this.spec.table)} (${names.map(quote).join(', ')})`;
    shape.tail ??= `ON CONFLICT (${shape.keyNames.map(quote).join(', ')}) DO UPDATE SET ${names
      .map((name) => this.assignment(name, this.spec.columns[name]))
      .filter((sql): sql is string => sql !== undefined)
      .join(', ')}`;
    const values = [...this.rows.values()].map((row) => names.map((name) => row[name] as Param));
    this.rows.clear();
    tx.insertLater(shape.head, values, shape.tail);
  }
}

/** What every batch of one spec shares: its column names and, once written, its upsert's text around VALUES. */
interface Shape<R extends RecordRow> {
  readonly columnNames: readonly (keyof R & string)[];
  readonly keyNames: readonly (keyof R & string)[];
  head?: string;
  tail?: string;
}

/**
 * Per spec, built on first use. A RecordBatch lives for one ingest batch; rebuilding this (the
 * upsert's ON CONFLICT clause is a CASE per column: several KB for the customers table) on every
 * write was the largest single allocation of a webhook's ingest (bench/README.md, "Allocation").
 */
const shapes = new WeakMap<RecordSpec<RecordRow>, Shape<RecordRow>>();
