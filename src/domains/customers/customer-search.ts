import { ErrorCode, clientError } from '../../api/errors.js';

/**
 * Customer search: a case-insensitive prefix of the name, e-mail or customer number, answered from
 * lower-cased copies of those fields kept beside them (`search*` columns of `customers`, written where
 * hydration writes the fields) through an index each, with `LIKE 'prefix%'` — which both databases
 * turn into an index range: SQLite on an index declared COLLATE NOCASE, PostgreSQL on one with
 * text_pattern_ops (migration 1764000000010). Lower-casing happens here, in JavaScript, on both sides,
 * so "MÜLLER" finds "Müller" on SQLite too (its own LOWER and LIKE fold ASCII only).
 */

/** The hydrated fields a search reads. */
export interface SearchableCustomer {
  readonly firstName: string | null;
  readonly lastName: string | null;
  readonly email: string | null;
  readonly customerNumber: string | null;
}

/** The search columns, by name, as written with the hydrated fields. */
export interface SearchColumns {
  readonly searchName: string | null;
  readonly searchLastName: string | null;
  readonly searchEmail: string | null;
  readonly searchNumber: string | null;
}

export const SEARCH_COLUMNS: readonly (keyof SearchColumns)[] = ['searchName', 'searchLastName', 'searchEmail', 'searchNumber'];

/** Lower case, inner whitespace as one space, trimmed: how both the columns and the queries are normalised. */
export function normaliseSearchText(text: string): string {
  return text.normalize('NFC').toLowerCase().replace(/\s+/g, ' ').trim();
}

const column = (text: string | null) => {
  if (text === null) return null;
  const normalised = normaliseSearchText(text);
  return normalised === '' ? null : normalised;
};

/** The search columns for a customer's fields ("first last" for the name; each null when its field is). */
export function searchColumns(customer: SearchableCustomer): SearchColumns {
  const name = [customer.firstName, customer.lastName].filter((part) => part !== null && part.trim() !== '').join(' ');
  return {
    searchName: column(name === '' ? null : name),
    searchLastName: column(customer.lastName),
    searchEmail: column(customer.email),
    searchNumber: column(customer.customerNumber),
  };
}

/** The longest search text taken. */
export const MAX_SEARCH_LENGTH = 100;

/** A search argument normalised, or BAD_USER_INPUT naming it when empty or too long. */
export function searchPrefix(raw: string, argument: string): string {
  const prefix = normaliseSearchText(raw);
  if (prefix === '') throw clientError(ErrorCode.BAD_USER_INPUT, `${argument}: expected at least one character that is not a space`);
  if (prefix.length > MAX_SEARCH_LENGTH)
    throw clientError(ErrorCode.BAD_USER_INPUT, `${argument}: expected at most ${MAX_SEARCH_LENGTH} characters, got ${prefix.length}`);
  return prefix;
}

/**
 * The LIKE pattern for `prefix`, with `!` as the escape character: a literal ESCAPE character is what
 * lets SQLite use the index (it does not for one passed as a parameter).
 */
export function likePrefix(prefix: string): string {
  return `${prefix.replace(/[!%_]/g, (c) => `!${c}`)}%`;
}

/**
 * The refusal of a personal filter to a viewer without `personalData`: the same code and message as
 * every personal field's (PERSONAL_DATA_FORBIDDEN).
 */

/** `column LIKE :name ESCAPE '!'` for a query builder. */
export const LIKE_SQL = (column: string, parameter: string) => `${column} LIKE :${parameter} ESCAPE '!'`;
