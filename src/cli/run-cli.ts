import 'reflect-metadata';
import type { DataSource } from 'typeorm';
import { ConfigError, loadDatabaseConfig, loadDatabaseTimeouts } from '../config.js';
import { openDatabase } from '../../ormconfig.js';
import { isDatabaseUnavailable } from '../db/unavailable.js';
import { createLogger } from '../log.js';

/** node:util parseArgs refusing an unknown or malformed option: the user's mistake, not ours. */
function isParseArgsError(error: unknown): boolean {
  return error instanceof TypeError && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS');
}

/** A command-line mistake: printed with the usage, exit code 2. */
export class UsageError extends Error {}

/**
 * Runs a command-line tool against the configured database (migrating it first, so the tools
 * work on a fresh checkout) and turns errors into messages and exit codes.
 */
export async function runCli(
  usage: string,
  command: (dataSource: DataSource, out: (line: string) => void) => Promise<void>,
  isInputError: (error: unknown) => boolean = () => false,
): Promise<void> {
  const out = (line: string) => process.stdout.write(`${line}\n`);
  let dataSource: DataSource | undefined;
  try {
    const database = loadDatabaseConfig();
    // Its warnings go to stderr: stdout is the command's answer (`--json` reports are parsed from it).
    // No planner statistics refresh: the service keeps them, and a command run while it writes
    // would only find the file busy (and say so on stderr).
    dataSource = await openDatabase(database, createLogger('warn', {}, 2), { timeouts: loadDatabaseTimeouts() }, { optimize: false });
    await command(dataSource, out);
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`error: ${error.message}\n\n${usage}\n`);
      process.exitCode = 2;
    } else if (error instanceof ConfigError) {
      // The same words as the server's (exit 2, the variable named, no stack trace).
      process.stderr.write(`gymgraph: ${error.message}\n`);
      process.exitCode = 2;
    } else if (isDatabaseUnavailable(error)) {
      // An outage, not a bug: said in one line, without a stack trace.
      process.stderr.write(`gymgraph: the database is unavailable (${(error as Error).message}); try again later\n`);
      process.exitCode = 1;
    } else if (isParseArgsError(error) || isInputError(error)) {
      process.stderr.write(`error: ${(error as Error).message}\n`);
      process.exitCode = 2;
    } else {
      process.stderr.write(`error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exitCode = 1;
    }
  } finally {
    await dataSource?.destroy();
  }
}
