import 'reflect-metadata';
import fs from 'node:fs';
import { renderSchemaFile, SCHEMA_FILE } from './schema-file.js';

/** Lines of context shown around the first difference. */
const CONTEXT = 3;

/**
 * `npm run check:schema`: exits 0 when `schema.graphql` is what the code produces, 1 (with the first
 * difference) when it has drifted, so CI catches a schema change that was not committed.
 */
async function main(): Promise<number> {
  const expected = await renderSchemaFile();
  let actual: string;
  try {
    actual = fs.readFileSync(SCHEMA_FILE, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    process.stderr.write(`check-schema: ${SCHEMA_FILE} is missing; run \`npm run emit:schema\` and commit it.\n`);
    return 1;
  }
  if (actual === expected) {
    process.stdout.write('schema.graphql is up to date\n');
    return 0;
  }
  process.stderr.write(
    `check-schema: schema.graphql differs from the schema the code produces; run \`npm run emit:schema\` and commit the result.\n${firstDifference(actual, expected)}`,
  );
  return 1;
}

/** A short hint: the first line that differs, with a few lines around it (`-` in the file, `+` from the code). */
function firstDifference(actual: string, expected: string): string {
  const a = actual.split('\n');
  const b = expected.split('\n');
  let line = 0;
  while (line < a.length && line < b.length && a[line] === b[line]) line += 1;
  const from = Math.max(0, line - CONTEXT);
  const out = [`first difference at line ${line + 1}:`];
  for (let i = from; i < line; i += 1) out.push(`  ${a[i]}`);
  for (const text of a.slice(line, line + CONTEXT)) out.push(`- ${text}`);
  for (const text of b.slice(line, line + CONTEXT)) out.push(`+ ${text}`);
  return `${out.join('\n')}\n`;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`check-schema: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(2);
  },
);
