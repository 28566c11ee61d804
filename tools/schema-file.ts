import path from 'node:path';
import { lexicographicSortSchema, printSchema } from 'graphql';
import { buildGraphQLSchema } from '../src/graphql/schema.js';

/** `schema.graphql` at the repository root (this file runs from `dist/tools/`). */
export const SCHEMA_FILE = path.resolve(__dirname, '..', '..', 'schema.graphql');

export const SCHEMA_HEADER = '# Generated from the code by `npm run emit:schema`; do not edit.';

/** The text `schema.graphql` must hold: the header, then the SDL sorted by name so diffs stay stable. */
export async function renderSchemaFile(): Promise<string> {
  const schema = await buildGraphQLSchema();
  return `${SCHEMA_HEADER}\n\n${printSchema(lexicographicSortSchema(schema))}\n`;
}
