import path from 'node:path';
import { SERVICE_ENTRY, killChildren, spawnNode, withTimeout } from './support/child.js';

const CLI_DIR = path.join(path.dirname(SERVICE_ENTRY), 'cli');

/** Every entry point a user starts, with an argument list that would otherwise work. */
const ENTRY_POINTS: readonly [string, string, readonly string[]][] = [
  ['the server', SERVICE_ENTRY, []],
  ['npm run studio', path.join(CLI_DIR, 'studio.js'), ['list']],
  ['npm run token', path.join(CLI_DIR, 'token.js'), ['list']],
  ['npm run inspect', path.join(CLI_DIR, 'inspect.js'), ['events']],
  ['npm run reconcile', path.join(CLI_DIR, 'reconcile.js'), ['--studio', '1']],
];

describe('an invalid DATABASE_URL at start', () => {
  afterEach(() => killChildren());

  it.each(ENTRY_POINTS)(
    'when %s is started with DATABASE_URL=mysql://x, then it exits 2 naming DATABASE_URL, without a stack trace',
    async (_name, script, args) => {
      const child = spawnNode(script, args, { DATABASE_URL: 'mysql://x', NODE_ENV: 'test' });
      const exit = await withTimeout(child.exited, 15_000, `${script} to exit`);
      expect(exit).toEqual({ code: 2, signal: null });
      expect(child.stderr()).toMatch(
        /^gymgraph: invalid configuration:\n {2}- DATABASE_URL must start with postgres:\/\/, postgresql:\/\/ or sqlite:, got "mysql:\.\.\."\n$/,
      );
      expect(child.stderr()).not.toMatch(/\n\s+at /);
      expect(child.stdout()).toBe('');
    },
  );

  it('when a database timeout is invalid, then a command-line tool exits 2 naming it too', async () => {
    const child = spawnNode(path.join(CLI_DIR, 'studio.js'), ['list'], {
      DATABASE_URL: 'sqlite:/nonexistent-dir/x.sqlite',
      DATABASE_CONNECT_TIMEOUT_MS: 'soon',
    });
    expect(await withTimeout(child.exited, 15_000, 'the CLI to exit')).toEqual({ code: 2, signal: null });
    expect(child.stderr()).toContain(
      'gymgraph: invalid configuration:\n  - DATABASE_CONNECT_TIMEOUT_MS must be an integer from 100 to 600000 (ms), got "soon"',
    );
  });
});

describe('a command-line tool when the database cannot be reached', () => {
  afterEach(() => killChildren());

  it('when nothing listens at DATABASE_URL, then it exits 1 within the connect timeout, saying the database is unavailable, without a stack trace', async () => {
    const child = spawnNode(path.join(CLI_DIR, 'studio.js'), ['list'], { DATABASE_URL: 'postgres://postgres@127.0.0.1:1/gymgraph' });
    expect(await withTimeout(child.exited, 15_000, 'the CLI to exit')).toEqual({ code: 1, signal: null });
    expect(child.stderr()).toMatch(/^gymgraph: the database is unavailable \(.*ECONNREFUSED.*\); try again later\n$/);
  });
});
