import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { createDataSource } from '../ormconfig.js';
import { loadConfig } from '../src/config.js';
import { hashWebhookKey } from '../src/domains/studios/webhook-key.js';
import { start, type App } from '../src/main.js';
import { startStandin, type Standin } from '../tools/upstream-standin/server.js';
import { World } from '../tools/upstream-standin/world.js';
import { freePort, killChildren, postWebhook, runStudioCli, type CliResult } from './support/child.js';
import { createTestDatabase, databaseKinds, type TestDatabase } from './support/databases.js';

const newKey = () => `whk_${randomUUID().replace(/-/g, '')}`;
const ADDED = /^added studio (\d+) "([^"]*)" \(tenant (\d+)\)/;

/** The ids printed by a successful `add`. */
function added(result: CliResult): { id: number; tenantId: number } {
  expect(result).toMatchObject({ code: 0, stderr: '' });
  const match = ADDED.exec(result.stdout);
  if (!match) throw new Error(`add printed no studio id: ${result.stdout}`);
  return { id: Number(match[1]), tenantId: Number(match[3]) };
}

describe.each(databaseKinds())('studio CLI (%s)', (kind) => {
  let db: TestDatabase;
  let dataSource: DataSource;
  const cli = (...args: string[]) => runStudioCli(db.url, args);
  const sql = <T = any>(query: string, params: unknown[] = []): Promise<T[]> =>
    dataSource.query(kind === 'postgres' ? query : query.replace(/\$\d+/g, '?'), params);
  const studioCount = async () => Number((await sql('SELECT COUNT(*) AS n FROM studios'))[0].n);

  beforeAll(async () => {
    db = await createTestDatabase(kind);
    // The first command meets an empty database and migrates it.
    const first = await cli('list');
    expect(first).toEqual({ code: 0, stdout: 'no studios yet: npm run studio -- add --name <name> --webhook-key <key>\n', stderr: '' });
    dataSource = createDataSource(db.config);
    await dataSource.initialize();
  });
  afterEach(() => killChildren());
  afterAll(async () => {
    await dataSource?.destroy();
    await db?.drop();
  });

  it('when a studio is added, then its id is printed, and list and list --json show it without its keys', async () => {
    const webhookKey = newKey();
    const apiKey = `api_${randomUUID()}`;
    const tenantUrl = `https://acme-${randomUUID().slice(0, 8)}.open-api.perfectgym.com/v1`;
    const { id, tenantId } = added(
      await cli(
        'add',
        '--name',
        'Acme Downtown',
        '--webhook-key',
        webhookKey,
        '--api-key',
        apiKey,
        '--tenant-url',
        tenantUrl,
        '--skip-activation',
      ),
    );
    const hash = hashWebhookKey(webhookKey);

    const list = await cli('list');
    expect(list.code).toBe(0);
    expect(list.stderr).toBe('');
    expect(list.stdout).toContain(`studio ${id} "Acme Downtown" (active) tenant ${tenantId} ${tenantUrl}\n`);

    const json = await cli('list', '--json');
    expect(json.code).toBe(0);
    expect(json.stderr).toBe('');
    const studios = JSON.parse(json.stdout) as Record<string, unknown>[];
    expect(studios.find((s) => s.id === id)).toEqual({
      id,
      name: 'Acme Downtown',
      status: 'active',
      tenantId,
      tenantUrl,
      hasApiKey: true,
      timeZone: null,
      createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    });

    for (const output of [list.stdout, json.stdout]) {
      expect(output).not.toContain(webhookKey);
      expect(output).not.toContain(hash);
      expect(output).not.toContain(apiKey);
    }
  });

  it('when a second studio is added with the same webhook key, then exit 2 with a message naming the first, and nothing is added', async () => {
    const webhookKey = newKey();
    const { id } = added(await cli('add', '--name', 'First', '--webhook-key', webhookKey));
    const before = await studioCount();

    const second = await cli('add', '--name', 'Second', '--webhook-key', webhookKey);
    expect(second.code).toBe(2);
    expect(second.stdout).toBe('');
    expect(second.stderr).toBe(`error: studio ${id} ("First") already uses this webhook key; two studios may not share one\n`);
    expect(await studioCount()).toBe(before);
  });

  it.each([
    [
      'the webhook key is too short',
      ['--name', 'Short', '--webhook-key', 'fifteen-chars-x'],
      '--webhook-key must be at least 16 characters',
    ],
    [
      'the webhook key has spaces',
      ['--name', 'Spaces', '--webhook-key', 'a key with spaces in it'],
      '--webhook-key must be at least 16 characters with no spaces',
    ],
    ['--name is missing', ['--webhook-key', newKey()], 'add needs --name'],
    ['--webhook-key is missing', ['--name', 'No key'], 'add needs --webhook-key'],
    [
      '--tenant-url is not a URL',
      ['--name', 'Bad URL', '--webhook-key', newKey(), '--tenant-url', 'acme.example'],
      '--tenant-url must be an absolute URL',
    ],
    [
      '--tenant-url is not http(s)',
      ['--name', 'FTP', '--webhook-key', newKey(), '--tenant-url', 'ftp://acme.example/v1'],
      '--tenant-url must be an http(s) URL',
    ],
    ['an option is unknown', ['--name', 'Typo', '--webhook-key', newKey(), '--tennant-url', 'https://acme.example'], '--tennant-url'],
    [
      '--api-key comes without --tenant-url',
      ['--name', 'Keyed', '--webhook-key', newKey(), '--api-key', 'oak-1234567890'],
      '--api-key needs --tenant-url',
    ],
    [
      '--time-zone is not a zone',
      ['--name', 'Nowhere', '--webhook-key', newKey(), '--time-zone', 'Mars/Olympus_Mons'],
      '--time-zone must be an IANA time zone such as Europe/Berlin or UTC, got "Mars/Olympus_Mons"',
    ],
  ])('when %s, then add exits 2 with a message naming the option, and nothing is added', async (_case, args, message) => {
    const before = await studioCount();
    const result = await cli('add', ...args);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/^error: /);
    expect(result.stderr).toContain(message);
    expect(await studioCount()).toBe(before);
  });

  it('when a studio is added or updated with --time-zone, then the zone is stored as Intl names it; an unknown zone exits 2 and changes nothing', async () => {
    const { id } = added(await cli('add', '--name', 'Zoned', '--webhook-key', newKey(), '--time-zone', 'europe/berlin'));
    const zoneOf = async () =>
      (await sql<{ timeZone: string | null }>('SELECT "timeZone" FROM studios WHERE "id" = $1', [id]))[0]!.timeZone;
    expect(await zoneOf()).toBe('Europe/Berlin');
    const json = JSON.parse((await cli('list', '--json')).stdout) as Record<string, unknown>[];
    expect(json.find((s) => s.id === id)).toMatchObject({ timeZone: 'Europe/Berlin' });

    const updated = await cli('update', String(id), '--time-zone', 'America/New_York');
    expect(updated).toEqual({
      code: 0,
      stderr: '',
      stdout: expect.stringMatching(new RegExp(`^updated time zone of studio ${id} "Zoned" .* America/New_York\n$`)),
    });
    expect(await zoneOf()).toBe('America/New_York');

    const refused = await cli('update', String(id), '--time-zone', 'Europe/Atlantis');
    expect(refused).toEqual({
      code: 2,
      stdout: '',
      stderr: 'error: --time-zone must be an IANA time zone such as Europe/Berlin or UTC, got "Europe/Atlantis"\n',
    });
    expect(await zoneOf()).toBe('America/New_York');
  });

  it.each([
    ['the command is unknown', ['frobnicate'], 'error: unknown command "frobnicate"'],
    ['no command is given', [], 'error: no command given'],
    ['disable gets no number', ['disable', 'abc'], 'error: expected a studio id, got "abc"'],
    ['enable gets no id', ['enable'], 'error: expected a studio id, got null'],
  ])('when %s, then exit 2 with the usage', async (_case, args, message) => {
    const result = await cli(...args);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr.startsWith(`${message}\n\nusage: npm run studio -- <command>`)).toBe(true);
    expect(result.stderr).toContain('disable <id>');
  });

  it('when disable names no existing studio, then exit 2 with a message', async () => {
    const result = await cli('disable', '987654');
    expect(result).toEqual({ code: 2, stdout: '', stderr: 'error: no studio with id 987654\n' });
  });

  describe('against a running server on the same database', () => {
    let app: App;
    beforeAll(async () => {
      app = await start(loadConfig({ DATABASE_URL: db.url, PORT: '0', HOST: '127.0.0.1', NODE_ENV: 'test' }));
    });
    afterAll(() => app?.stop());

    const body = () => ({ uuid: randomUUID(), entityId: 42, payload: [{ type: 'CUSTOMER_CREATED', timestamp: 1_764_000_000_000 }] });
    const stored = async (uuid: string) => Number((await sql('SELECT COUNT(*) AS n FROM events WHERE "uuid" = $1', [uuid]))[0].n);

    it('when a studio is disabled, then the server answers 401 for its key at once; enabled again, then 200', async () => {
      const webhookKey = newKey();
      const { id } = added(await cli('add', '--name', 'Toggled', '--webhook-key', webhookKey));
      expect((await postWebhook(app.url, webhookKey, body())).status).toBe(200); // the key is now cached as active

      const disabled = await cli('disable', String(id));
      expect(disabled.code).toBe(0);
      expect(disabled.stdout).toMatch(new RegExp(`^studio ${id} "Toggled" \\(disabled\\)`));
      const refusedBody = body();
      const refused = await postWebhook(app.url, webhookKey, refusedBody);
      expect(refused.status).toBe(401);
      expect(refused.body).toEqual({ error: 'unauthorized', message: 'the studio for this webhook key is disabled' });
      expect(await stored(refusedBody.uuid)).toBe(0);

      const enabled = await cli('enable', String(id));
      expect(enabled.code).toBe(0);
      expect(enabled.stdout).toMatch(new RegExp(`^studio ${id} "Toggled" \\(active\\)`));
      const acceptedBody = body();
      const accepted = await postWebhook(app.url, webhookKey, acceptedBody);
      expect(accepted.status).toBe(200);
      expect(await stored(acceptedBody.uuid)).toBe(1);
    });
  });

  it('when two studios name the same tenant URL, differently cased or with a trailing slash, then they share one tenant', async () => {
    const host = `acme-${randomUUID().slice(0, 8)}`;
    const a = added(
      await cli(
        'add',
        '--name',
        'Acme North',
        '--webhook-key',
        newKey(),
        '--tenant-url',
        `https://${host.toUpperCase()}.open-api.perfectgym.com/v1/`,
      ),
    );
    const b = added(
      await cli('add', '--name', 'Acme South', '--webhook-key', newKey(), '--tenant-url', `https://${host}.open-api.perfectgym.com/v1`),
    );
    const other = added(await cli('add', '--name', 'Solo Gym', '--webhook-key', newKey()));
    expect(b.tenantId).toBe(a.tenantId);
    expect(other.tenantId).not.toBe(a.tenantId);

    const tenants = await sql('SELECT "id", "baseUrl" FROM tenants WHERE "id" = $1', [a.tenantId]);
    expect(tenants).toEqual([{ id: a.tenantId, baseUrl: `https://${host}.open-api.perfectgym.com/v1` }]);
    const listed = JSON.parse((await cli('list', '--json')).stdout) as { id: number; tenantUrl: string | null }[];
    expect(listed.filter((s) => s.id === a.id || s.id === b.id).map((s) => s.tenantUrl)).toEqual([
      `https://${host}.open-api.perfectgym.com/v1`,
      `https://${host}.open-api.perfectgym.com/v1`,
    ]);
  });

  it('when a studio is added, then only a SHA-256 digest of its webhook key is stored, and the key appears nowhere in the studios table', async () => {
    const webhookKey = newKey();
    const { id } = added(await cli('add', '--name', 'Hashed', '--webhook-key', webhookKey));
    const rows = await sql('SELECT * FROM studios');
    const row = rows.find((r) => Number(r.id) === id);
    expect(row.webhookKeyHash).toMatch(/^[0-9a-f]{64}$/);
    expect(row.webhookKeyHash).not.toBe(webhookKey);
    expect(row.webhookKeyHash).toBe(hashWebhookKey(webhookKey));
    expect(JSON.stringify(rows)).not.toContain(webhookKey);
  });

  describe('Open API activation against the stand-in upstream', () => {
    const world = new World({ seed: 8, studios: 3, customersPerStudio: 1 });
    let standin: Standin;
    beforeAll(async () => {
      standin = await startStandin({ world });
    });
    afterAll(() => standin?.close());
    const apiKeyOf = async (id: number) => (await sql('SELECT "apiKey" FROM studios WHERE "id" = $1', [id]))[0].apiKey as string | null;

    it('when a studio is added with a valid key, then activation is confirmed upstream before it is saved', async () => {
      const studio = world.studios[0]!;
      const result = await cli(
        'add',
        '--name',
        'Activated',
        '--webhook-key',
        newKey(),
        '--api-key',
        studio.apiKey,
        '--tenant-url',
        standin.baseUrl,
      );
      const { id } = added(result);
      expect(result.stdout).toContain('Open API activation confirmed upstream');
      expect(standin.activations.get(studio.id)).toBe(1);
      expect(await apiKeyOf(id)).toBe(studio.apiKey);
    });

    it.each([
      [
        'the key is refused (401)',
        () => ['--api-key', 'oak-wrong-key-123', '--tenant-url', standin.baseUrl],
        /^error: activation not confirmed: the upstream refused the Open API key \(401\) \(upstream traceId standin-[0-9a-f]+\): check --api-key; nothing was saved/,
      ],
      [
        'the URL has no Open API (404)',
        () => ['--api-key', world.studios[1]!.apiKey, '--tenant-url', standin.baseUrl.replace(/\/v1$/, '/nothing/v1')],
        /no Open API activation endpoint at .*\(404\).*check --tenant-url/,
      ],
    ])('when %s, then add exits 2 saying so, and nothing is saved', async (_case, args, message) => {
      const before = await studioCount();
      const activations = standin.activations.get(world.studios[1]!.id) ?? 0;
      const result = await cli('add', '--name', 'Refused', '--webhook-key', newKey(), ...args());
      expect(result.code).toBe(2);
      expect(result.stdout).toBe('');
      expect(result.stderr).toMatch(message);
      expect(await studioCount()).toBe(before);
      expect(standin.activations.get(world.studios[1]!.id) ?? 0).toBe(activations);
    });

    it('when the tenant URL cannot be reached, then add exits 2 naming the URL, and nothing is saved', async () => {
      const url = `http://127.0.0.1:${await freePort()}/v1`;
      const before = await studioCount();
      const result = await cli(
        'add',
        '--name',
        'Unreachable',
        '--webhook-key',
        newKey(),
        '--api-key',
        'oak-some-key-123',
        '--tenant-url',
        url,
      );
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(
        `could not reach the Open API at ${url} (ECONNREFUSED): check --tenant-url and the network; nothing was saved`,
      );
      expect(await studioCount()).toBe(before);
    });

    it('when activation fails but --skip-activation is given, then the studio is saved and the output says activation was not confirmed', async () => {
      const result = await cli(
        'add',
        '--name',
        'Skipped',
        '--webhook-key',
        newKey(),
        '--api-key',
        'oak-not-checked-1',
        '--tenant-url',
        standin.baseUrl,
        '--skip-activation',
      );
      const { id } = added(result);
      expect(result.stdout).toContain('activation NOT confirmed (--skip-activation)');
      expect(await apiKeyOf(id)).toBe('oak-not-checked-1');
    });

    it('when update replaces the key, then it is confirmed again; a refused key changes nothing; a rename needs no upstream', async () => {
      const { id } = added(
        await cli(
          'add',
          '--name',
          'Rekeyed',
          '--webhook-key',
          newKey(),
          '--api-key',
          'oak-old-key-1234',
          '--tenant-url',
          standin.baseUrl,
          '--skip-activation',
        ),
      );
      const studio = world.studios[2]!;

      const refused = await cli('update', String(id), '--api-key', 'oak-wrong-key-456');
      expect(refused.code).toBe(2);
      expect(refused.stderr).toContain('the upstream refused the Open API key (401)');
      expect(await apiKeyOf(id)).toBe('oak-old-key-1234');

      const updated = await cli('update', String(id), '--api-key', studio.apiKey);
      expect(updated.code).toBe(0);
      expect(updated.stdout).toMatch(
        new RegExp(`^updated Open API key of studio ${id} "Rekeyed" .*; Open API activation confirmed upstream\n$`),
      );
      expect(standin.activations.get(studio.id)).toBe(1);
      expect(await apiKeyOf(id)).toBe(studio.apiKey);
      expect(updated.stdout).not.toContain(studio.apiKey);

      const renamed = await cli('update', String(id), '--name', 'Rekeyed and renamed');
      expect(renamed).toEqual({
        code: 0,
        stderr: '',
        stdout: expect.stringMatching(new RegExp(`^updated name of studio ${id} "Rekeyed and renamed"`)),
      });
      expect(standin.activations.get(studio.id)).toBe(1);
    });

    it("when update would move a studio to another tenant's URL, or names nothing to change, then exit 2", async () => {
      const a = added(
        await cli(
          'add',
          '--name',
          'Tenant A',
          '--webhook-key',
          newKey(),
          '--tenant-url',
          `https://a-${randomUUID().slice(0, 8)}.example/v1`,
        ),
      );
      const bUrl = `https://b-${randomUUID().slice(0, 8)}.example/v1`;
      added(await cli('add', '--name', 'Tenant B', '--webhook-key', newKey(), '--tenant-url', bUrl));
      const moved = await cli('update', String(a.id), '--tenant-url', bUrl);
      expect(moved.code).toBe(2);
      expect(moved.stderr).toMatch(/^error: tenant \d+ already has .*; a studio cannot move to another operator/);
      const nothing = await cli('update', String(a.id));
      expect(nothing.code).toBe(2);
      expect(nothing.stderr).toContain('update needs at least one of --name, --api-key, --tenant-url');
      const keyless = added(await cli('add', '--name', 'No tenant URL', '--webhook-key', newKey()));
      const noUrl = await cli('update', String(keyless.id), '--api-key', 'oak-1234567890');
      expect(noUrl.code).toBe(2);
      expect(noUrl.stderr).toContain(`--api-key needs a tenant URL: studio ${keyless.id} has none, add --tenant-url`);
    });
  });
});
