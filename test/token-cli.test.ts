import { createHash } from 'node:crypto';
import path from 'node:path';
import type { DataSource } from 'typeorm';
import { createDataSource } from '../ormconfig.js';
import { loadConfig } from '../src/config.js';
import { StudioService } from '../src/domains/studios/studio.service.js';
import { start, type App } from '../src/main.js';
import { createLogger } from '../src/log.js';
import { killChildren, spawnNode, withTimeout, type CliResult } from './support/child.js';
import { createTestDatabase, databaseKinds, type TestDatabase } from './support/databases.js';

const TOKEN_CLI = path.resolve(__dirname, '..', 'dist', 'src', 'cli', 'token.js');
const CREATED =
  /^(?:created|rotated) token (\d+) "([^"]*)" \((partner|app), studios ([\d,]+|all)((?:, [^,)]+)*)\)(?:: the old secret no longer works)?\nstore it now, it is not shown again:\n(ggt_[A-Za-z0-9_-]{43})\n$/;

/** Runs `node dist/src/cli/token.js ...args` against `databaseUrl` and waits for it to exit. */
async function runTokenCli(databaseUrl: string, args: readonly string[]): Promise<CliResult> {
  const child = spawnNode(TOKEN_CLI, args, { DATABASE_URL: databaseUrl });
  const { code } = await withTimeout(child.exited, 15_000, `token ${args.join(' ')}`);
  return { code, stdout: child.stdout(), stderr: child.stderr() };
}

/** What a successful `create` printed. */
function created(result: CliResult): { id: number; name: string; role: string; studios: string; extras: string; token: string } {
  expect(result).toMatchObject({ code: 0, stderr: '' });
  const match = CREATED.exec(result.stdout);
  if (!match) throw new Error(`create printed something unexpected: ${JSON.stringify(result.stdout)}`);
  return { id: Number(match[1]), name: match[2]!, role: match[3]!, studios: match[4]!, extras: match[5]!, token: match[6]! };
}

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

describe.each(databaseKinds())('token CLI (%s)', (kind) => {
  let db: TestDatabase;
  let dataSource: DataSource;
  let studioA: number;
  let studioB: number;
  const cli = (...args: string[]) => runTokenCli(db.url, args);
  const tokenCount = async () => Number((await dataSource.query('SELECT COUNT(*) AS n FROM api_tokens'))[0].n);

  beforeAll(async () => {
    db = await createTestDatabase(kind);
    // The first command meets an empty database and migrates it.
    expect(await cli('list')).toEqual({
      code: 0,
      stdout: 'no tokens yet: npm run token -- create --role partner --studios all\n',
      stderr: '',
    });
    dataSource = createDataSource(db.config);
    await dataSource.initialize();
    const studios = new StudioService(dataSource);
    studioA = (await studios.add({ name: 'Token Studio A', webhookKey: 'token-cli-webhook-key-a-0001' })).id;
    studioB = (await studios.add({ name: 'Token Studio B', webhookKey: 'token-cli-webhook-key-b-0002' })).id;
  });
  afterEach(() => killChildren());
  afterAll(async () => {
    await dataSource?.destroy();
    await db?.drop();
  });

  it('when a token is created, then it is printed once, with its id; only its SHA-256 digest is stored', async () => {
    const result = created(await cli('create', '--role', 'partner', '--studios', `${studioB},${studioA}`, '--name', 'Dashboard'));
    expect(result).toMatchObject({ name: 'Dashboard', role: 'partner', studios: `${studioA},${studioB}` });

    const rows: Record<string, unknown>[] = await dataSource.query('SELECT * FROM api_tokens');
    const row = rows.find((r) => Number(r.id) === result.id)!;
    expect(row.tokenHash).toBe(sha256(result.token));
    expect(JSON.stringify(rows)).not.toContain(result.token);
  });

  it('when tokens are listed, as text or --json, then neither the token nor its digest is shown', async () => {
    const { id, token } = created(await cli('create', '--role', 'app', '--studios', 'all'));
    const list = await cli('list');
    expect(list.code).toBe(0);
    expect(list.stderr).toBe('');
    expect(list.stdout).toContain(`token ${id} "app token" app studios all\n`);

    const json = await cli('list', '--json');
    expect(json).toMatchObject({ code: 0, stderr: '' });
    const listed = JSON.parse(json.stdout) as Record<string, unknown>[];
    expect(listed.find((t) => t.id === id)).toEqual({
      id,
      name: 'app token',
      role: 'app',
      studios: 'all',
      createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      revokedAt: null,
      note: null,
      personalData: true,
      expiresAt: null,
      rotatedAt: null,
    });
    for (const output of [list.stdout, json.stdout]) {
      expect(output).not.toContain(token);
      expect(output).not.toContain(sha256(token));
      expect(output).not.toMatch(/ggt_/);
    }
  });

  describe('against a running server on the same database', () => {
    let app: App;
    beforeAll(async () => {
      app = await start(loadConfig({ DATABASE_URL: db.url, PORT: '0', HOST: '127.0.0.1', NODE_ENV: 'test' }), createLogger('silent'));
    });
    afterAll(() => app?.stop());

    const studios = async (token: string) => {
      const response = await fetch(`${app.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query: '{ studios { id name } }' }),
      });
      return { status: response.status, body: (await response.json()) as { data?: unknown; errors?: { extensions: { code: string } }[] } };
    };

    it('when a created token is used, then it sees its studios; once revoked, then /graphql answers 401 at once', async () => {
      const { id, token } = created(await cli('create', '--role', 'partner', '--studios', String(studioA), '--name', 'Kiosk'));
      expect(await studios(token)).toEqual({ status: 200, body: { data: { studios: [{ id: String(studioA), name: 'Token Studio A' }] } } });

      const revoked = await cli('revoke', String(id));
      expect(revoked).toEqual({ code: 0, stdout: `token ${id} "Kiosk" revoked\n`, stderr: '' });
      const refused = await studios(token);
      expect(refused.status).toBe(401);
      expect(refused.body.errors?.[0]?.extensions.code).toBe('UNAUTHENTICATED');

      const list = await cli('list');
      expect(list.stdout).toMatch(new RegExp(`token ${id} "Kiosk" partner studios ${studioA} revoked \\d{4}-\\d\\d-\\d\\dT`));
    });

    it('when a token is rotated, then the new secret works, the old one is refused at once, and id, role and studios stay', async () => {
      const first = created(await cli('create', '--role', 'app', '--studios', String(studioB), '--name', 'Front desk'));
      expect(await studios(first.token)).toMatchObject({ status: 200 });
      const rotated = await cli('rotate', String(first.id));
      const second = created(rotated);
      expect(rotated.stdout).toMatch(/^rotated token /);
      expect(second).toMatchObject({ id: first.id, name: 'Front desk', role: 'app', studios: String(studioB) });
      expect(second.token).not.toBe(first.token);
      expect((await studios(first.token)).status).toBe(401);
      expect(await studios(second.token)).toEqual({
        status: 200,
        body: { data: { studios: [{ id: String(studioB), name: 'Token Studio B' }] } },
      });
    });
  });

  it('when --expires, --note and --personal-data are given, then the token carries them, as created and as listed', async () => {
    const before = Date.now();
    const made = created(
      await cli(
        'create',
        '--role',
        'partner',
        '--studios',
        String(studioA),
        '--expires',
        '30d',
        '--note',
        'Ask Jo before revoking',
        '--personal-data',
      ),
    );
    const expires = /, personal data, expires (\S+)$/.exec(made.extras);
    expect(expires).not.toBeNull();
    const at = Date.parse(expires![1]!);
    expect(at).toBeGreaterThanOrEqual(before + 30 * 86_400_000);
    expect(at).toBeLessThan(Date.now() + 30 * 86_400_000 + 1000);

    const dated = created(await cli('create', '--role', 'partner', '--studios', 'all', '--expires', '2099-01-31'));
    expect(dated.extras).toBe(', expires 2099-01-31T00:00:00.000Z');

    const listed = JSON.parse((await cli('list', '--json')).stdout) as Record<string, unknown>[];
    expect(listed.find((t) => t.id === made.id)).toMatchObject({
      note: 'Ask Jo before revoking',
      personalData: true,
      expiresAt: new Date(at).toISOString(),
    });
    expect(listed.find((t) => t.id === dated.id)).toMatchObject({ note: null, personalData: false, expiresAt: '2099-01-31T00:00:00.000Z' });
    expect((await cli('list')).stdout).toContain(
      `token ${made.id} "partner token" partner studios ${studioA} personal data expires ${new Date(at).toISOString()}\n`,
    );
  });

  it.each([
    ['the role is unknown', ['--role', 'admin', '--studios', '1'], 'error: --role must be one of partner, app, got "admin"\n'],
    ['--role is missing', ['--studios', 'all'], 'error: create needs --role partner|app\n'],
    ['--studios is missing', ['--role', 'partner'], 'error: create needs --studios <id,id,...|all>\n'],
    [
      '--studios is not a list of ids',
      ['--role', 'partner', '--studios', '1,two'],
      'error: --studios expects studio ids separated by commas, or "all"; got "1,two"\n',
    ],
    [
      '--studios has a zero',
      ['--role', 'partner', '--studios', '0'],
      'error: --studios expects studio ids separated by commas, or "all"; got "0"\n',
    ],
    [
      '--studios is empty',
      ['--role', 'partner', '--studios', ''],
      'error: --studios expects studio ids separated by commas, or "all"; got ""\n',
    ],
    [
      '--studios names an unknown studio',
      ['--role', 'partner', '--studios', '987654'],
      'error: --studios names a studio that does not exist (known: see npm run studio -- list)\n',
    ],
    ['an option is unknown', ['--role', 'partner', '--studios', 'all', '--studio', '1'], "--studio'"],
    [
      '--expires is not a date',
      ['--role', 'partner', '--studios', 'all', '--expires', 'tomorrow'],
      'error: --expires expects an ISO date or date-time (2027-01-31, 2027-01-31T18:00:00Z) or a duration such as 30d, 12h or 90m; got "tomorrow"\n',
    ],
    [
      '--expires is in the past',
      ['--role', 'partner', '--studios', 'all', '--expires', '2020-01-01'],
      'error: --expires must be in the future, got 2020-01-01T00:00:00.000Z\n',
    ],
    [
      '--expires is too long a duration',
      ['--role', 'partner', '--studios', 'all', '--expires', '400d'],
      'error: --expires must be a duration such as 30m, 6h or 7d (from 1m to 366d), got "400d"',
    ],
  ])('when %s, then create exits 2 with a message and no token is created', async (_case, args, message) => {
    const before = await tokenCount();
    const result = await cli('create', ...args);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/^error: /);
    expect(result.stderr).toContain(message);
    expect(result.stderr).not.toMatch(/\n\s+at /); // a message, not a stack trace
    expect(await tokenCount()).toBe(before);
  });

  it.each([
    ['revoke names no token', ['revoke', '987654'], 'error: no token with id 987654\n'],
    ['revoke gets no number', ['revoke', 'abc'], 'error: expected a token id, got "abc"\n'],
    ['rotate names no token', ['rotate', '987654'], 'error: no token with id 987654\n'],
    ['the command is unknown', ['mint'], 'error: unknown command "mint"\n'],
  ])('when %s, then exit 2 with a message', async (_case, args, message) => {
    const result = await cli(...args);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr.startsWith(message)).toBe(true);
  });
});
