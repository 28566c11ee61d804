import { TokenService } from '../src/domains/access/token.service.js';
import { databaseKinds } from './support/databases.js';
import { delivery, startTestServer, type TestServer } from './support/server.js';
import { connect, disposeClients, subscribe, until, type Subscription } from './support/ws.js';

const ADMIN_TOKEN = 'test-admin-token-0123456789';
const T0 = Date.parse('2026-03-02T07:00:00Z');

/**
 * Resumes (`after`) of the same document, variables and scope form a replay group: each replays
 * the log on its own, but every event is executed and serialised once for the group
 * (src/realtime/replay-renders.ts). What must hold: each resume still gets exactly its events, in
 * order, once; and resumes that differ in scope, permissions or selection never share a payload.
 */
describe.each(databaseKinds())('replay groups: resumes of one shape share each rendered event (%s)', (kind) => {
  let server: TestServer;
  let a: { id: number; webhookKey: string };
  let b: { id: number; webhookKey: string };
  let tokens: TokenService;

  const post = async (key: string, entityId: number, type = 'CUSTOMER_UPDATED') => {
    const response = await server.post(key, delivery(entityId, { type, timestamp: T0 + entityId }));
    expect(response.status).toBe(200);
  };
  const lastSeq = async () =>
    Number((await server.sql<{ max: string | number | null }>('SELECT MAX(seq) AS "max" FROM events'))[0]?.max ?? 0);
  const counters = () => ({ ...server.app.subscriptions.replayCounters });
  const stored = async (from: number, studio?: number) =>
    (
      await server.sql<{ seq: number | string; type: string; entityId: number | string; studioId: number | string }>(
        `SELECT seq, type, "entityId", "studioId" FROM events WHERE seq > ${from}${studio === undefined ? '' : ` AND "studioId" = ${studio}`} ORDER BY seq`,
      )
    ).map((row) => ({ seq: String(row.seq), type: row.type, entityId: String(row.entityId), studioId: String(row.studioId) }));
  const field = <T>(subscription: Subscription<Record<string, T>>, count: number, name = 'events') =>
    subscription.take(count).then((results) => results.map((result) => result.data![name]!));

  beforeAll(async () => {
    server = await startTestServer(kind, { ADMIN_TOKEN });
    a = await server.addStudio({ name: 'Alpha', tenantUrl: 'https://acme.example/v1' });
    b = await server.addStudio({ name: 'Beta', tenantUrl: 'https://acme.example/v1' });
    tokens = new TokenService(server.app.dataSource);
  });
  afterEach(async () => {
    await disposeClients();
    await until(() => server.app.subscriptions.subscriptions === 0, 5000, 'every subscription to end');
  });
  afterAll(() => server.stop());

  it('when 20 clients over two tokens of one scope resume from the same event, then each gets every event once, in order, and each event is rendered once for all', async () => {
    const from = await lastSeq();
    for (let i = 0; i < 30; i++) await post(i % 3 === 2 ? b.webhookKey : a.webhookKey, 100 + i);
    const one = (await tokens.create({ role: 'partner', studios: [a.id] })).token;
    const two = (await tokens.create({ role: 'partner', studios: [a.id] })).token;
    const expected = (await stored(from, a.id)).map(({ seq, type, entityId }) => ({ seq, type, entityId }));
    expect(expected).toHaveLength(20);
    const before = counters();
    const query = `subscription { events(after: "${from}") { seq type entityId } }`;
    const resumes = Array.from({ length: 20 }, (_, i) => subscribe(connect(server.app.url, i % 2 ? one : two), query));
    for (const resume of resumes) expect(await field(resume, 20)).toEqual(expected);
    // Live after the replay: still each once, in order, rendered once.
    await post(a.webhookKey, 200);
    const [live] = (await stored(from)).filter((e) => e.entityId === '200');
    for (const resume of resumes)
      expect((await field(resume, 21)).slice(20)).toEqual([{ seq: live!.seq, type: live!.type, entityId: '200' }]);
    const after = counters();
    expect(after.rendered - before.rendered).toBe(21);
    expect(after.shared - before.shared).toBe(19 * 21);
    for (const resume of resumes) expect(resume.results).toHaveLength(21);
  });

  it('when resumes of the same document differ in studios, role or permissions, then none is given another one’s payload', async () => {
    const from = await lastSeq();
    await post(a.webhookKey, 301, 'CUSTOMER_CREATED');
    await post(b.webhookKey, 302, 'CUSTOMER_CREATED');
    const partnerA = (await tokens.create({ role: 'partner', studios: [a.id] })).token;
    const partnerB = (await tokens.create({ role: 'partner', studios: [b.id] })).token;
    const personalA = (await tokens.create({ role: 'partner', studios: [a.id], permissions: ['personalData'] })).token;
    // `customer.firstName` is personal data: refused to a partner without the permission, null (not hydrated) to the others.
    const query = `subscription { customerCreated(after: "${from}") { event { entityId studioId } customer { customerId firstName } } }`;
    const open = (token: string) => subscribe(connect(server.app.url, token), query);
    const before = counters();
    const [viaA, viaB, viaPersonal, viaAdmin, viaA2, viaPersonal2] = [partnerA, partnerB, personalA, ADMIN_TOKEN, partnerA, personalA].map(
      open,
    );
    const take = (s: Subscription<Record<string, any>>, count: number) => s.take(count);
    const [ofA, ofB, ofPersonal, ofAdmin, ofA2, ofPersonal2] = await Promise.all([
      take(viaA!, 1),
      take(viaB!, 1),
      take(viaPersonal!, 1),
      take(viaAdmin!, 2),
      take(viaA2!, 1),
      take(viaPersonal2!, 1),
    ]);
    const customer = (entityId: string, studioId: number) => ({
      event: { entityId, studioId: String(studioId) },
      customer: { customerId: entityId, firstName: null },
    });
    expect(ofPersonal!.map((r) => r.data)).toEqual([{ customerCreated: customer('301', a.id) }]);
    expect(ofPersonal!.every((r) => r.errors === undefined)).toBe(true);
    expect(ofPersonal2).toEqual(ofPersonal);
    expect(ofAdmin!.map((r) => r.data)).toEqual([{ customerCreated: customer('301', a.id) }, { customerCreated: customer('302', b.id) }]);
    for (const [results, entityId, studio] of [
      [ofA!, '301', a.id],
      [ofA2!, '301', a.id],
      [ofB!, '302', b.id],
    ] as const) {
      expect(results).toHaveLength(1);
      expect(results[0]!.data!['customerCreated'].event).toEqual({ entityId, studioId: String(studio) });
      expect(results[0]!.errors?.map((e) => e.extensions?.['code'])).toEqual(['PERSONAL_DATA_FORBIDDEN']);
    }
    // Four groups (partner A, partner B, partner A with personal data, admin): 1 + 1 + 1 + 2 renders; the second of A's and of personal A's are shared.
    const after = counters();
    expect(after.rendered - before.rendered).toBe(5);
    expect(after.shared - before.shared).toBe(2);
  });

  it('when resumes differ only in the `after` variable, then each replays from its own position, and the events they both replay are rendered once', async () => {
    const from = await lastSeq();
    for (let i = 0; i < 6; i++) await post(a.webhookKey, 350 + i);
    const query = 'subscription ($after: String) { events(after: $after) { entityId } }';
    const before = counters();
    const early = subscribe(connect(server.app.url, ADMIN_TOKEN), query, { after: String(from) });
    const late = subscribe(connect(server.app.url, ADMIN_TOKEN), query, { after: String(from + 3) });
    const entities = (n: number, first: number) => Array.from({ length: n }, (_, i) => ({ entityId: String(first + i) }));
    expect(await field(early, 6)).toEqual(entities(6, 350));
    expect(await field(late, 3)).toEqual(entities(3, 353));
    const after = counters();
    expect(after.rendered - before.rendered).toBe(6);
    expect(after.shared - before.shared).toBe(3);
    // A cursor that does not parse is still refused, as before.
    const bad = subscribe(connect(server.app.url, ADMIN_TOKEN), query, { after: 'yesterday' });
    await bad.take(1);
    expect(bad.results[0]!.errors).toEqual([
      expect.objectContaining({ message: expect.stringContaining('after:'), extensions: { code: 'BAD_USER_INPUT' } }),
    ]);
  });

  it('when resumes of one token select different fields, then each gets its own selection', async () => {
    const from = await lastSeq();
    await post(a.webhookKey, 401);
    const admin = connect(server.app.url, ADMIN_TOKEN);
    const bySeq = subscribe(admin, `subscription { events(after: "${from}") { seq } }`);
    const byEntity = subscribe(admin, `subscription { events(after: "${from}") { entityId type } }`);
    const [seq] = await field(bySeq, 1);
    expect(seq).toEqual({ seq: String(await lastSeq()) });
    expect(await field(byEntity, 1)).toEqual([{ entityId: '401', type: 'CUSTOMER_UPDATED' }]);
  });

  it('when the client completes a resume during its replay, then it gets nothing more, and the socket serves the next one', async () => {
    const from = await lastSeq();
    for (let i = 0; i < 40; i++) await post(a.webhookKey, 500 + i);
    const admin = connect(server.app.url, ADMIN_TOKEN);
    const first = subscribe(admin, `subscription { events(after: "${from}") { seq } }`);
    await first.take(1);
    first.unsubscribe();
    await until(() => server.app.subscriptions.subscriptions === 0, 5000, 'the completed resume to end');
    const received = first.results.length;
    const second = subscribe(admin, `subscription { events(after: "${from}") { entityId } }`);
    expect((await field(second, 40)).map((e: any) => e.entityId)).toEqual(Array.from({ length: 40 }, (_, i) => String(500 + i)));
    expect(first.results).toHaveLength(received);
    expect(first.error()).toBeUndefined();
  });
});
