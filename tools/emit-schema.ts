import 'reflect-metadata';
import fs from 'node:fs';
import { renderSchemaFile, SCHEMA_FILE } from './schema-file.js';

/** `npm run emit:schema`: writes `schema.graphql` from the code. */
async function main(): Promise<void> {
  const text = await renderSchemaFile();
  fs.writeFileSync(SCHEMA_FILE, text);
  process.stdout.write(`wrote ${SCHEMA_FILE}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`emit-schema: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
