import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT, exportJWK, exportSPKI, generateKeyPair, type JWK, type KeyLike } from 'jose';
import { databaseKinds } from './support/databases.js';
import { startTestServer, type TestServer } from './support/server.js';
import { connect, disposeClients, subscribe } from './support/ws.js';

/**
 * Member JWTs at the real entry points (HTTP bearer and graphql-ws `connection_init`), against an
 * identity provider played by this test: a JWKS served on loopback whose keys the test rotates.
 */

const ISSUER = 'https://id.example.test/';
const AUDIENCE = 'gymgraph-members';
const SECRET = 'hs256-shared-secret-for-members-0123456789';
const COOLDOWN_MS = 200;

interface SigningKey {
  readonly kid: string;
  readonly alg: 'RS256' | 'ES256';
  readonly privateKey: KeyLike;
  readonly jwk: JWK;
  readonly pem: string;
}

async function signingKey(kid: string, alg: 'RS256' | 'ES256'): Promise<SigningKey> {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
  return { kid, alg, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' }, pem: await exportSPKI(publicKey) };
}

/** The identity provider's JWKS endpoint: serves `keys`, counts fetches. */
class JwksServer {
  keys: SigningKey[] = [];
  fetches = 0;
  private readonly server: Server = createServer((_req, res) => {
    this.fetches += 1;
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ keys: this.keys.map((k) => k.jwk) }));
  });

  async listen(): Promise<string> {
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/.well-known/jwks.json`;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

interface Claims {
  readonly role?: unknown;
  readonly studioIds?: unknown;
  readonly customerId?: unknown;
  readonly [name: string]: unknown;
}

/** A token as the identity provider would issue it; every part can be changed by `options`. */
function token(
  key: SigningKey | { alg: 'HS256'; secret: Uint8Array },
  claims: Claims,
  options: { issuer?: string; audience?: string; exp?: number | string; nbf?: number; kid?: string } = {},
): Promise<string> {
  const jwt = new SignJWT({ ...claims })
    .setProtectedHeader('secret' in key ? { alg: 'HS256' } : { alg: key.alg, kid: options.kid ?? key.kid })
    .setIssuer(options.issuer ?? ISSUER)
    .setAudience(options.audience ?? AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(options.exp ?? '10m');
  if (options.nbf !== undefined) jwt.setNotBefore(options.nbf);
  return jwt.sign('secret' in key ? key.secret : key.privateKey);
}

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const now = () => Math.floor(Date.now() / 1000);

async function ask(server: TestServer, bearer: string, query = '{ studios { id name } customers { totalCount nodes { customerId } } }') {
  const response = await fetch(`${server.app.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${bearer}` },
    body: JSON.stringify({ query }),
  });
  return {
    status: response.status,
    body: (await response.json()) as { data?: any; errors?: { message: string; extensions?: { code?: string } }[] },
  };
}

describe.each(databaseKinds())('member JWTs (%s)', (kind) => {
  const jwks = new JwksServer();
  let server: TestServer;
  let rsa: SigningKey;
  let ec: SigningKey;
  let studio1: number;
  let studio2: number;
  let otherOperator: number;
  let member: Claims;

  beforeAll(async () => {
    rsa = await signingKey('rsa-1', 'RS256');
    ec = await signingKey('ec-1', 'ES256');
    jwks.keys = [rsa, ec];
    const url = await jwks.listen();
    server = await startTestServer(kind, {
      JWT_JWKS_URL: url,
      JWT_SECRET: SECRET,
      JWT_ISSUER: ISSUER,
      JWT_AUDIENCE: AUDIENCE,
      JWT_CLOCK_SKEW_S: '30',
      JWT_JWKS_COOLDOWN_MS: String(COOLDOWN_MS),
      WS_TOKEN_RECHECK_MS: '100',
      HYDRATION_ENABLED: 'false',
    });
    const s1 = await server.addStudio({ name: 'JWT Studio 1', tenantUrl: 'https://jwt-op.example/v1' });
    const s2 = await server.addStudio({ name: 'JWT Studio 2', tenantUrl: 'https://jwt-op.example/v1' });
    studio1 = s1.id;
    studio2 = s2.id;
    otherOperator = (await server.addStudio({ name: 'JWT Other Operator', tenantUrl: 'https://other-op.example/v1' })).id;
    for (const customer of [7001, 7002]) {
      const body = {
        entityId: customer,
        uuid: `00000000-0000-4000-8000-00000000${customer}`,
        payload: [{ type: 'CUSTOMER_CREATED', timestamp: Date.now() - 60_000 }],
      };
      expect((await server.post(s1.webhookKey, body)).status).toBe(200);
    }
    member = { role: 'member', studioIds: [studio1], customerId: 7001 };
  });
  afterAll(async () => {
    await disposeClients();
    await server?.stop();
    await jwks.close();
  });

  it('when a valid RS256 token from the JWKS is sent, then the member sees their studio and only their own customer record', async () => {
    const answer = await ask(server, await token(rsa, member));
    expect(answer).toEqual({
      status: 200,
      body: {
        data: { studios: [{ id: String(studio1), name: 'JWT Studio 1' }], customers: { totalCount: 1, nodes: [{ customerId: '7001' }] } },
      },
    });
  });

  it('when the claims use strings for ids, then they are read as ids too', async () => {
    const answer = await ask(server, await token(ec, { role: 'member', studioIds: [String(studio1)], customerId: '7001' }));
    expect(answer.body.data?.customers).toEqual({ totalCount: 1, nodes: [{ customerId: '7001' }] });
  });

  it('when an ES256 token is sent, then it is accepted', async () => {
    expect((await ask(server, await token(ec, member))).status).toBe(200);
  });

  it('when an HS256 token signed with JWT_SECRET is sent, then it is accepted', async () => {
    expect((await ask(server, await token({ alg: 'HS256', secret: new TextEncoder().encode(SECRET) }, member))).status).toBe(200);
  });

  it.each([
    ['expired (beyond the skew)', { exp: now() - 120 }, /^JWT expired$/],
    ['not yet valid (beyond the skew)', { nbf: now() + 120 }, /^JWT not yet valid \(nbf\)$/],
    ['of another issuer', { issuer: 'https://evil.example.test/' }, /^JWT claim iss refused/],
    ['for another audience', { audience: 'another-api' }, /^JWT claim aud refused/],
    ['signed with a key id the JWKS does not have', { kid: 'rsa-unknown' }, /^JWT kid names no key of the JWKS$/],
  ])('when the token is %s, then 401 UNAUTHENTICATED saying so', async (_what, options, message) => {
    const answer = await ask(server, await token(rsa, member, options));
    expect(answer.status).toBe(401);
    expect(answer.body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect(answer.body.errors?.[0]?.message).toMatch(message);
    expect(answer.body.data).toBeUndefined();
  });

  it('when exp or nbf is off by less than the clock skew, then the token is accepted', async () => {
    expect((await ask(server, await token(rsa, member, { exp: now() - 10 }))).status).toBe(200);
    expect((await ask(server, await token(rsa, member, { nbf: now() + 10 }))).status).toBe(200);
  });

  it.each([
    [
      'role admin',
      { ...{ role: 'admin', studioIds: [1], customerId: 7001 } },
      /^JWT claim role must be "member" \(a JWT stands for one member; use an API token for other roles\), got "admin"$/,
    ],
    ['role missing', { studioIds: [1], customerId: 7001 }, /^JWT claim role must be "member".*got undefined$/],
    [
      'no studios',
      { role: 'member', studioIds: [], customerId: 7001 },
      /^JWT claim studioIds must be a list of 1 to 100 studio ids, got \[\]$/,
    ],
    [
      'a customer id that is no id',
      { role: 'member', studioIds: [1], customerId: 'abc' },
      /^JWT claim customerId must hold positive integer ids, got "abc"$/,
    ],
  ])('when the claims carry %s, then 401 naming the claim', async (_what, claims, message) => {
    const answer = await ask(server, await token(rsa, claims));
    expect(answer.status).toBe(401);
    expect(answer.body.errors?.[0]?.message).toMatch(message);
  });

  it('when the token says alg none, then 401 (an unsigned token never verifies)', async () => {
    const unsigned = `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ ...member, iss: ISSUER, aud: AUDIENCE, exp: now() + 600 })}.`;
    const answer = await ask(server, unsigned);
    expect(answer.status).toBe(401);
    expect(answer.body.errors?.[0]?.message).toBe('JWT alg "none" is not accepted here (accepted: RS256, ES256, HS256)');
  });

  it('when an HS256 token is signed with the RSA public key as its secret (HS/RS confusion), then 401: HS256 is checked against JWT_SECRET only', async () => {
    const forged = await token({ alg: 'HS256', secret: new TextEncoder().encode(rsa.pem) }, member);
    const answer = await ask(server, forged);
    expect(answer.status).toBe(401);
    expect(answer.body.errors?.[0]?.message).toBe('JWT signature does not verify');
  });

  it('when the keys are rotated (new kid in the JWKS), then a token of the new key is accepted after one refetch, and the retired key refused', async () => {
    const before = jwks.fetches;
    const rotated = await signingKey('rsa-2', 'RS256');
    jwks.keys = [rotated, ec];
    await new Promise((resolve) => setTimeout(resolve, COOLDOWN_MS + 50));
    expect((await ask(server, await token(rotated, member))).status).toBe(200);
    expect(jwks.fetches).toBe(before + 1);
    // The cached set is the new one: the old kid is unknown now (one more fetch after the cooldown, then refused).
    await new Promise((resolve) => setTimeout(resolve, COOLDOWN_MS + 50));
    const retired = await ask(server, await token(rsa, member));
    expect(retired.status).toBe(401);
    expect(retired.body.errors?.[0]?.message).toBe('JWT kid names no key of the JWKS');
    jwks.keys = [rsa, ec];
    await new Promise((resolve) => setTimeout(resolve, COOLDOWN_MS + 50));
  });

  it('when a member asks for what members may not see, then FORBIDDEN naming the field', async () => {
    const answer = await ask(server, await token(rsa, member), '{ devices { totalCount } }');
    expect(answer.body.errors?.[0]).toMatchObject({
      message: "Query.devices is not available to members (a member's JWT sees their own records and public studio data only)",
      extensions: { code: 'FORBIDDEN' },
    });
  });

  it('when a member names a studio outside their token, then FORBIDDEN', async () => {
    const answer = await ask(server, await token(rsa, member), `{ occupancy(studioIds: ["${studio2}"]) { total } }`);
    expect(answer.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  it('when a token names studios of two operators, then it sees no customer record (an upstream customer id means nothing across operators)', async () => {
    const answer = await ask(server, await token(rsa, { ...member, studioIds: [studio1, otherOperator] }));
    expect(answer.body.data).toEqual({
      studios: [expect.objectContaining({ id: String(studio1) }), expect.objectContaining({ id: String(otherOperator) })],
      customers: { totalCount: 0, nodes: [] },
    });
  });

  it('when the JWT is sent in connection_init, then the socket is acknowledged and serves the member', async () => {
    const client = connect(server.app.url, await token(rsa, member));
    await client.connected;
    const sub = subscribe(client, '{ customers { nodes { customerId } } }');
    const [result] = await sub.take(1);
    expect(result).toEqual({ data: { customers: { nodes: [{ customerId: '7001' }] } } });
    await client.dispose();
  });

  it('when a refused JWT is sent in connection_init, then the socket is closed with 4403 and the reason', async () => {
    const client = connect(server.app.url, await token(rsa, member, { issuer: 'https://evil.example.test/' }));
    await expect(client.connected).rejects.toThrow();
    const closed = await client.closed;
    expect(closed.code).toBe(4403);
    expect(closed.reason).toMatch(/^Forbidden: JWT claim iss refused/);
  });

  it('when the JWT of an open socket expires, then the socket is closed with 4403', async () => {
    const client = connect(server.app.url, await token(rsa, member, { exp: now() + 2 }));
    await client.connected;
    const opened = Date.now();
    const closed = await client.closed;
    expect(closed).toEqual({ code: 4403, reason: 'Forbidden: token expired' });
    expect(Date.now() - opened).toBeLessThan(4000);
  });
});

describe('member JWTs with one PEM key, no HS256 secret and namespaced claims', () => {
  let server: TestServer;
  let rsa: SigningKey;
  const NS = 'https://gym.example/claims';
  const namespaced = { [NS]: { role: 'member', studios: [1], customer: 1 } };

  beforeAll(async () => {
    rsa = await signingKey('pem', 'RS256');
    server = await startTestServer('sqlite', {
      JWT_PUBLIC_KEY: rsa.pem,
      JWT_ISSUER: ISSUER,
      JWT_AUDIENCE: AUDIENCE,
      HYDRATION_ENABLED: 'false',
      JWT_CLAIM_ROLE: `${NS}.role`,
      JWT_CLAIM_STUDIO_IDS: `${NS}.studios`,
      JWT_CLAIM_CUSTOMER_ID: `${NS}.customer`,
    });
    await server.addStudio({ name: 'PEM Studio' });
  });
  afterAll(() => server?.stop());

  it('when an RS256 token of that key carries the scope under the namespace, then it is accepted', async () => {
    expect(await ask(server, await token(rsa, namespaced), '{ studios { name } }')).toEqual({
      status: 200,
      body: { data: { studios: [{ name: 'PEM Studio' }] } },
    });
  });

  it('when the scope is at the top level instead of under the namespace, then 401 naming the configured claim', async () => {
    const answer = await ask(server, await token(rsa, { role: 'member', studioIds: [1], customerId: 1 }));
    expect(answer.status).toBe(401);
    expect(answer.body.errors?.[0]?.message).toMatch(/^JWT claim https:\/\/gym\.example\/claims\.role must be "member"/);
  });

  it('when an HS256 token is signed with the public key as its secret, then 401: HS256 is not accepted without JWT_SECRET', async () => {
    const forged = await token({ alg: 'HS256', secret: new TextEncoder().encode(rsa.pem) }, namespaced);
    const answer = await ask(server, forged);
    expect(answer.status).toBe(401);
    expect(answer.body.errors?.[0]?.message).toBe('JWT alg "HS256" is not accepted here (accepted: RS256)');
  });
});

describe('a JWT sent to a server without JWT settings', () => {
  it('when a JWT is sent, then 401 saying JWTs are not accepted here', async () => {
    const server = await startTestServer('sqlite', { HYDRATION_ENABLED: 'false' });
    try {
      const answer = await ask(server, `${b64({ alg: 'HS256' })}.${b64({ role: 'member' })}.c2ln`);
      expect(answer.status).toBe(401);
      expect(answer.body.errors?.[0]?.message).toMatch(/^JWTs are not accepted by this server/);
    } finally {
      await server.stop();
    }
  });
});

describe('member JWTs while the JWKS cannot be read', () => {
  it('when the JWKS endpoint refuses connections, then 503 SERVICE_UNAVAILABLE with Retry-After (not a 401: the token may be fine)', async () => {
    // A port that was just free: nothing listens there any more.
    const probe = createServer();
    probe.listen(0, '127.0.0.1');
    await once(probe, 'listening');
    const port = (probe.address() as AddressInfo).port;
    await new Promise((resolve) => probe.close(resolve));
    const server = await startTestServer('sqlite', {
      JWT_JWKS_URL: `http://127.0.0.1:${port}/jwks`,
      JWT_ISSUER: ISSUER,
      JWT_AUDIENCE: AUDIENCE,
      HYDRATION_ENABLED: 'false',
    });
    try {
      const key = await signingKey('k', 'RS256');
      const response = await fetch(`${server.app.url}/graphql`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: `Bearer ${await token(key, { role: 'member', studioIds: [1], customerId: 1 })}`,
        },
        body: JSON.stringify({ query: '{ studios { id } }' }),
      });
      expect(response.status).toBe(503);
      expect(response.headers.get('retry-after')).not.toBeNull();
      const body = (await response.json()) as { errors: { message: string; extensions: { code: string } }[] };
      expect(body.errors[0]).toMatchObject({
        message: 'the keys that verify this JWT cannot be read right now: retry',
        extensions: { code: 'SERVICE_UNAVAILABLE' },
      });
    } finally {
      await server.stop();
    }
  });
});
