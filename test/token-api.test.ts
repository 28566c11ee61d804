import { createHash } from 'node:crypto';
import { TokenManagement1764000000007 } from '../src/migrations/1764000000007-token-management.js';
import { MIGRATIONS } from '../src/migrations/index.js';
import { TokenService } from '../src/domains/access/token.service.js';
import { openDatabase } from '../ormconfig.js';
import { createLogger } from '../src/log.js';
import { createTestDatabase, databaseKinds } from './support/databases.js';
import { startTestServer, type TestServer } from './support/server.js';
import { connect, disposeClients, rawSocket, closeRawSockets, subscribe } from './support/ws.js';

const ADMIN_TOKEN = 'test-admin-token-0123456789';
const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

interface Answer {
  readonly status: number;
  readonly body: { data?: any; errors?: { message: string; extensions?: { code?: string } }[] };
  readonly headers: Headers;
}

async function gql(server: TestServer, token: string, query: string, variables: Record<string, unknown> = {}): Promise<Answer> {
  const response = await fetch(`${server.app.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  return { status: response.status, body: (await response.json()) as Answer['body'], headers: response.headers };
}

const TOKEN_FIELDS = 'id name note role studioIds permissions personalData createdAt expiresAt rotatedAt revokedAt active';
const CREATE = `mutation($input: CreateApiTokenInput!) { createApiToken(input: $input) { secret token { ${TOKEN_FIELDS} } } }`;
const ROTATE = `mutation($id: ID!) { rotateApiToken(id: $id) { secret token { ${TOKEN_FIELDS} } } }`;
const REVOKE = `mutation($id: ID!) { revokeApiToken(id: $id) { ${TOKEN_FIELDS} } }`;
const LIST = `{ apiTokens { ${TOKEN_FIELDS} } }`;
const STUDIOS = '{ studios { id name } }';

describe.each(databaseKinds())('tokens through the API (%s)', (kind) => {
  let server: TestServer;
  let studioA: string;
  let studioB: string;
  const admin = (query: string, variables: Record<string, unknown> = {}) => gql(server, ADMIN_TOKEN, query, variables);
  const create = async (input: Record<string, unknown>) => {
    const answer = await admin(CREATE, { input });
    if (answer.body.errors) throw new Error(JSON.stringify(answer.body.errors));
    return answer.body.data.createApiToken as { secret: string; token: Record<string, any> };
  };

  beforeAll(async () => {
    server = await startTestServer(kind, { ADMIN_TOKEN, WS_TOKEN_RECHECK_MS: '100' });
    studioA = String((await server.addStudio({ name: 'Token API Studio A' })).id);
    studioB = String((await server.addStudio({ name: 'Token API Studio B' })).id);
  });
  afterEach(async () => {
    await disposeClients();
    await closeRawSockets();
  });
  afterAll(() => server?.stop());

  it('when an admin creates a token, then its secret comes once, it works, and the list shows it without secret or digest', async () => {
    const { secret, token } = await create({
      role: 'PARTNER',
      studioIds: [studioA],
      name: 'CRM sync',
      note: 'Jo at ACME',
      permissions: ['PERSONAL_DATA'],
    });
    expect(secret).toMatch(/^ggt_[A-Za-z0-9_-]{43}$/);
    expect(token).toMatchObject({
      name: 'CRM sync',
      note: 'Jo at ACME',
      role: 'PARTNER',
      studioIds: [studioA],
      permissions: ['PERSONAL_DATA'],
      personalData: true,
      expiresAt: null,
      rotatedAt: null,
      revokedAt: null,
      active: true,
    });
    expect(await gql(server, secret, STUDIOS)).toMatchObject({
      status: 200,
      body: { data: { studios: [{ id: studioA, name: 'Token API Studio A' }] } },
    });

    const list = await admin(LIST);
    expect(list.status).toBe(200);
    expect(list.body.data.apiTokens).toContainEqual(token);
    const text = JSON.stringify(list.body);
    expect(text).not.toContain(secret);
    expect(text).not.toContain(sha256(secret));
    expect(text).not.toMatch(/ggt_/);
    // Nor is it stored in clear.
    const rows = await server.sql('SELECT * FROM api_tokens');
    expect(JSON.stringify(rows)).not.toContain(secret);
  });

  it('when a token is created for all studios without permissions, then a partner token has no personal data and an app token has', async () => {
    const partner = await create({ role: 'PARTNER', allStudios: true });
    const app = await create({ role: 'APP', allStudios: true });
    expect(partner.token).toMatchObject({ studioIds: null, permissions: [], personalData: false, name: 'partner token' });
    expect(app.token).toMatchObject({ studioIds: null, permissions: [], personalData: true, name: 'app token' });
    const all = await gql(server, partner.secret, STUDIOS);
    expect(all.body.data.studios.map((s: { id: string }) => s.id)).toEqual([studioA, studioB]);
  });

  it('when a token is rotated, then the old secret is refused at once, the new one works, and id, role, studios, permissions and expiry stay', async () => {
    const expiresAt = new Date(Date.now() + 86_400_000).toISOString();
    const first = await create({ role: 'APP', studioIds: [studioB], expiresAt, name: 'Front desk' });
    const client = connect(server.app.url, first.secret);
    await client.connected;

    const rotated = await admin(ROTATE, { id: first.token.id });
    expect(rotated.body.errors).toBeUndefined();
    const second = rotated.body.data.rotateApiToken as { secret: string; token: Record<string, any> };
    expect(second.secret).not.toBe(first.secret);
    const { rotatedAt, ...kept } = second.token;
    const { rotatedAt: before, ...original } = first.token;
    expect(kept).toEqual(original);
    expect(before).toBeNull();
    expect(Date.parse(rotatedAt)).toBeGreaterThan(Date.now() - 60_000);

    const old = await gql(server, first.secret, STUDIOS);
    expect(old.status).toBe(401);
    expect(old.body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect(await gql(server, second.secret, STUDIOS)).toMatchObject({ status: 200, body: { data: { studios: [{ id: studioB }] } } });
    // The socket the old secret opened is closed at the next recheck; one with the new secret stays.
    const fresh = connect(server.app.url, second.secret);
    await fresh.connected;
    expect(await client.closed).toEqual({ code: 4403, reason: 'Forbidden: token rotated' });
    const stillOpen = subscribe(fresh, '{ studios { id } }');
    await expect(stillOpen.take(1)).resolves.toEqual([{ data: { studios: [{ id: studioB }] } }]);
  });

  it('when a token is revoked, then it is refused at once, listed as revoked, and cannot be rotated', async () => {
    const { secret, token } = await create({ role: 'PARTNER', studioIds: [studioA] });
    const client = connect(server.app.url, secret);
    await client.connected;
    const revoked = await admin(REVOKE, { id: token.id });
    expect(revoked.body.data.revokeApiToken).toMatchObject({ id: token.id, active: false, revokedAt: expect.stringMatching(/^\d{4}-/) });
    expect((await gql(server, secret, STUDIOS)).status).toBe(401);
    expect(await client.closed).toEqual({ code: 4403, reason: 'Forbidden: token revoked' });
    const again = await admin(ROTATE, { id: token.id });
    expect(again.body.errors?.[0]).toMatchObject({
      message: `token ${token.id} is revoked: create a new one instead`,
      extensions: { code: 'BAD_USER_INPUT' },
    });
    expect((await admin(LIST)).body.data.apiTokens.find((t: { id: string }) => t.id === token.id)).toMatchObject({ active: false });
  });

  it('when a token expires, then HTTP answers 401 saying so, its open socket is closed with 4403, and connection_init is refused', async () => {
    // No recheck within the test: the socket's own timer must close it.
    const quiet = await startTestServer(kind, { ADMIN_TOKEN, WS_TOKEN_RECHECK_MS: '3600000' }, { database: server.db });
    try {
      await expiring(quiet);
    } finally {
      await quiet.stop();
    }
  });

  const expiring = async (instance: TestServer) => {
    const expiresAt = new Date(Date.now() + 2500);
    const { secret, token } = await create({ role: 'APP', studioIds: [studioA], expiresAt: expiresAt.toISOString() });
    expect(token.expiresAt).toBe(expiresAt.toISOString());
    const client = connect(instance.app.url, secret);
    await client.connected;
    expect(await gql(instance, secret, STUDIOS)).toMatchObject({ status: 200 });

    const closed = await client.closed;
    expect(Date.now()).toBeGreaterThanOrEqual(expiresAt.getTime() - 5);
    expect(closed).toEqual({ code: 4403, reason: 'Forbidden: token expired' });

    const refused = await gql(instance, secret, STUDIOS);
    expect(refused.status).toBe(401);
    expect(refused.headers.get('www-authenticate')).toBe('Bearer error="invalid_token", error_description="token expired"');
    expect(refused.body.errors).toEqual([
      { message: `token expired at ${expiresAt.toISOString()}: ask for a new one`, extensions: { code: 'UNAUTHENTICATED' } },
    ]);

    const raw = await rawSocket(instance.app.url);
    raw.send({ type: 'connection_init', payload: { authorization: `Bearer ${secret}` } });
    expect(await raw.closed).toEqual({ code: 4403, reason: 'Forbidden: token expired' });
    expect(raw.messages).toEqual([]);
    expect((await admin(LIST)).body.data.apiTokens.find((t: { id: string }) => t.id === token.id)).toMatchObject({ active: false });
    const rotate = await admin(ROTATE, { id: token.id });
    expect(rotate.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  };

  // What the WebSocket token recheck asks between its full rounds (src/graphql/ws.ts).
  it('when tokens are revoked or rotated, then changedSince lists exactly those since the given time, revoked as null and rotated with the new digest', async () => {
    const tokens = new TokenService(server.app.dataSource);
    const since = Date.now() - 1;
    const untouched = await tokens.create({ role: 'partner', studios: [Number(studioA)] });
    const revoked = await tokens.create({ role: 'partner', studios: [Number(studioA)] });
    const rotated = await tokens.create({ role: 'partner', studios: [Number(studioA)] });
    await tokens.revoke(revoked.record.id);
    const { record } = await tokens.rotate(rotated.record.id);
    const changed = await tokens.changedSince(since);
    expect(changed.get(revoked.record.id)).toBeNull();
    expect(changed.get(rotated.record.id)).toBe(record.tokenHash);
    expect(changed.has(untouched.record.id)).toBe(false);
    expect((await tokens.changedSince(Date.now() + 60_000)).size).toBe(0);
  });

  it('when a partner or app token asks for token management, then FORBIDDEN and nothing changes', async () => {
    const partner = await create({ role: 'PARTNER', allStudios: true, permissions: ['PERSONAL_DATA'] });
    const app = await create({ role: 'APP', allStudios: true });
    const count = async () => Number((await server.sql('SELECT COUNT(*) AS "n" FROM api_tokens'))[0].n);
    const before = await count();
    for (const { secret } of [partner, app]) {
      for (const [field, query, variables] of [
        ['apiTokens', LIST, {}],
        ['createApiToken', CREATE, { input: { role: 'APP', allStudios: true } }],
        ['rotateApiToken', ROTATE, { id: partner.token.id }],
        ['revokeApiToken', REVOKE, { id: app.token.id }],
      ] as const) {
        const answer = await gql(server, secret, query, variables);
        expect(answer.body.data ?? null).toBeNull();
        expect(answer.body.errors).toEqual([
          expect.objectContaining({ message: `${field} is for admin tokens only`, extensions: { code: 'FORBIDDEN' } }),
        ]);
      }
    }
    expect(await count()).toBe(before);
    expect((await gql(server, partner.secret, STUDIOS)).status).toBe(200);
    expect((await gql(server, app.secret, STUDIOS)).status).toBe(200);
  });

  it.each([
    [
      'neither studioIds nor allStudios',
      { role: 'PARTNER' },
      'input.studioIds: give either studioIds (at least one) or allStudios: true, not both and not neither',
    ],
    [
      'both studioIds and allStudios',
      { role: 'PARTNER', studioIds: ['1'], allStudios: true },
      'input.studioIds: give either studioIds (at least one) or allStudios: true, not both and not neither',
    ],
    ['an empty studioIds', { role: 'PARTNER', studioIds: [] }, 'input.studioIds needs at least one studio id, or "all"'],
    [
      'an unknown studio',
      { role: 'PARTNER', studioIds: ['987654'] },
      'input.studioIds names a studio that does not exist (known: see npm run studio -- list)',
    ],
    [
      'a studio id that is not one',
      { role: 'PARTNER', studioIds: ['abc'] },
      'input.studioIds: expected a studio id (an integer such as "1"), got "abc"',
    ],
    [
      'an expiry in the past',
      { role: 'APP', allStudios: true, expiresAt: '2020-01-01T00:00:00.000Z' },
      'input.expiresAt must be in the future, got 2020-01-01T00:00:00.000Z',
    ],
    [
      'a name over 200 characters',
      { role: 'APP', allStudios: true, name: 'x'.repeat(201) },
      'input.name may have at most 200 characters, got 201',
    ],
    [
      'a note over 1000 characters',
      { role: 'APP', allStudios: true, note: 'x'.repeat(1001) },
      'input.note may have at most 1000 characters, got 1001',
    ],
  ])('when createApiToken gets %s, then BAD_USER_INPUT naming the field and no token', async (_case, input, message) => {
    const before = Number((await server.sql('SELECT COUNT(*) AS "n" FROM api_tokens'))[0].n);
    const answer = await admin(CREATE, { input });
    expect(answer.body.errors).toEqual([expect.objectContaining({ message, extensions: { code: 'BAD_USER_INPUT' } })]);
    expect(Number((await server.sql('SELECT COUNT(*) AS "n" FROM api_tokens'))[0].n)).toBe(before);
  });

  it('when the role or a permission is not one of the enum, or an id is unknown, then a client error names it', async () => {
    const role = await admin(CREATE, { input: { role: 'ADMIN', allStudios: true } });
    expect(role.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(role.body.errors?.[0]?.message).toMatch(/input\.role/);
    const permission = await admin(CREATE, { input: { role: 'PARTNER', allStudios: true, permissions: ['WRITE'] } });
    expect(permission.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(permission.body.errors?.[0]?.message).toMatch(/input\.permissions/);
    for (const query of [ROTATE, REVOKE]) {
      expect((await admin(query, { id: '987654' })).body.errors?.[0]).toMatchObject({
        message: 'no token with id 987654',
        extensions: { code: 'NOT_FOUND' },
      });
      expect((await admin(query, { id: 'abc' })).body.errors?.[0]).toMatchObject({
        message: 'id: expected a token id (an integer such as "1"), got "abc"',
        extensions: { code: 'BAD_USER_INPUT' },
      });
    }
  });
});

describe.each(databaseKinds())('migration 1764000000007 on existing tokens (%s)', (kind) => {
  it('when tokens from before it exist, then they keep working: none expires, partner tokens keep personal data', async () => {
    const db = await createTestDatabase(kind);
    const dataSource = await openDatabase(db.config, createLogger('silent'));
    try {
      const tokens = new TokenService(dataSource);
      const partner = await tokens.create({ role: 'partner', studios: 'all', name: 'old partner' });
      const app = await tokens.create({ role: 'app', studios: 'all', name: 'old app' });
      // Back to the columns of before (undoing the later migrations too), then forward again: as an upgrade finds them.
      const undone = MIGRATIONS.length - MIGRATIONS.indexOf(TokenManagement1764000000007);
      for (let i = 0; i < undone; i++) await dataSource.undoLastMigration({ transaction: 'each' });
      const columns = Object.keys((await dataSource.query('SELECT * FROM "api_tokens"'))[0] as object);
      expect(columns).not.toContain('permissions');
      expect(await dataSource.runMigrations({ transaction: 'each' })).toHaveLength(undone);
      expect(await tokens.authenticate(partner.token, undefined)).toEqual({
        role: 'partner',
        tokenId: partner.record.id,
        studioIds: null,
        personalData: true,
        expiresAt: null,
      });
      expect(await tokens.authenticate(app.token, undefined)).toEqual({
        role: 'app',
        tokenId: app.record.id,
        studioIds: null,
        personalData: true,
        expiresAt: null,
      });
      const listed = await tokens.list();
      expect(listed.map((t) => [t.name, t.permissions, t.expiresAt, t.note])).toEqual([
        ['old partner', ['personalData'], null, null],
        ['old app', [], null, null],
      ]);
      // A partner token made now has none unless asked.
      const fresh = await tokens.create({ role: 'partner', studios: 'all' });
      expect((await tokens.authenticate(fresh.token, undefined))?.personalData).toBe(false);
    } finally {
      await dataSource.destroy();
      await db.drop();
    }
  });
});
