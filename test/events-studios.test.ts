import { SignJWT } from 'jose';
import { TokenService } from '../src/domains/access/token.service.js';
import { startStandin, type Standin } from '../tools/upstream-standin/server.js';
import { World, type WebhookDelivery } from '../tools/upstream-standin/world.js';
import { databaseKinds } from './support/databases.js';
import { delivery, startTestServer, type TestServer } from './support/server.js';
import { connect, disposeClients, subscribe, until } from './support/ws.js';

const ADMIN_TOKEN = 'test-admin-token-0123456789';
const JWT = {
  JWT_SECRET: 'studios-test-hs256-secret-0123456789abcdef',
  JWT_ISSUER: 'https://id.example.test/',
  JWT_AUDIENCE: 'gymgraph-members',
};
const T0 = Date.parse('2026-03-02T07:00:00Z');
const at = (minutes: number) => T0 + minutes * 60_000;
const iso = (minutes: number) => new Date(at(minutes)).toISOString();

function memberJwt(studioId: number, customerId: number): Promise<string> {
  return new SignJWT({ role: 'member', studioIds: [studioId], customerId })
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuer(JWT.JWT_ISSUER)
    .setAudience(JWT.JWT_AUDIENCE)
    .setIssuedAt()
    .setExpirationTime('10m')
    .sign(new TextEncoder().encode(JWT.JWT_SECRET));
}

async function gql(server: TestServer, token: string, query: string): Promise<any> {
  const response = await fetch(`${server.app.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query }),
  });
  return response.json();
}

async function data(server: TestServer, token: string, query: string): Promise<any> {
  const body = await gql(server, token, query);
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data;
}

const codes = (body: any) => (body.errors ?? []).map((e: any) => e.extensions?.code);

describe.each(databaseKinds())('studio and finance events of the sister platform (%s)', (kind) => {
  let server: TestServer;
  /** Two studios of one operator. */
  let a: { id: number; webhookKey: string };
  let b: { id: number; webhookKey: string };
  let partnerA: string;
  let partnerB: string;
  let memberA: string;

  const post = async (key: string, body: ReturnType<typeof delivery>, stored = body.payload.length) => {
    const response = await server.post(key, body);
    expect(response).toMatchObject({ status: 200, body: { stored } });
    return response;
  };
  const eventCount = async () => Number((await server.sql<{ n: string | number }>('SELECT COUNT(*) AS "n" FROM events'))[0]!.n);
  const listening = (count: number) => until(() => server.app.subscriptions.subscriptions >= count, 5000, `${count} subscriptions`);
  const studioFields = (id: number, token = ADMIN_TOKEN) =>
    data(server, token, `{ studio(id: ${id}) { openingHoursUpdatedAt additionalInformationFieldsUpdatedAt upstreamStudioId } }`).then(
      (d) => d.studio,
    );

  beforeAll(async () => {
    server = await startTestServer(kind, { ADMIN_TOKEN, ...JWT });
    a = await server.addStudio({ name: 'Alpha', tenantUrl: 'https://acme.example/v1' });
    b = await server.addStudio({ name: 'Beta', tenantUrl: 'https://acme.example/v1' });
    const tokens = new TokenService(server.app.dataSource);
    partnerA = (await tokens.create({ role: 'partner', studios: [a.id] })).token;
    partnerB = (await tokens.create({ role: 'partner', studios: [b.id] })).token;
    memberA = await memberJwt(a.id, 4201);
  });
  afterEach(async () => {
    await disposeClients();
    await until(() => server.app.subscriptions.subscriptions === 0, 5000, 'every subscription to end');
  });
  afterAll(() => server.stop());

  describe('STUDIO_OPENING_HOURS_UPDATED and ADDITIONAL_INFORMATION_FIELDS_UPDATED', () => {
    it('when they arrive, then the delivering studio keeps the time of the latest change of each; a duplicate and an older event change nothing', async () => {
      const newest = delivery(700, { type: 'STUDIO_OPENING_HOURS_UPDATED', timestamp: at(5) });
      await post(a.webhookKey, newest);
      expect(await server.post(a.webhookKey, newest)).toMatchObject({ status: 200, body: { stored: 0, duplicates: 1 } });
      await post(a.webhookKey, delivery(700, { type: 'STUDIO_OPENING_HOURS_UPDATED', timestamp: at(3) }));
      // Two of the other kind in one delivery, the newer first: merged in the batch, the newer wins.
      await post(
        a.webhookKey,
        delivery(
          700,
          { type: 'ADDITIONAL_INFORMATION_FIELDS_UPDATED', timestamp: at(9) },
          { type: 'ADDITIONAL_INFORMATION_FIELDS_UPDATED', timestamp: at(2) },
        ),
      );
      await post(a.webhookKey, delivery(700, { type: 'ADDITIONAL_INFORMATION_FIELDS_UPDATED', timestamp: at(4) }));

      expect(await studioFields(a.id)).toEqual({
        openingHoursUpdatedAt: iso(5),
        additionalInformationFieldsUpdatedAt: iso(9),
        upstreamStudioId: null,
      });
      expect(await studioFields(b.id)).toEqual({
        openingHoursUpdatedAt: null,
        additionalInformationFieldsUpdatedAt: null,
        upstreamStudioId: null,
      });

      await post(a.webhookKey, delivery(700, { type: 'STUDIO_OPENING_HOURS_UPDATED', timestamp: at(7) }));
      expect(await studioFields(a.id)).toMatchObject({ openingHoursUpdatedAt: iso(7), additionalInformationFieldsUpdatedAt: iso(9) });
    });

    it("when the registry knows the studio's upstream id and the event names another, then it is stored and announced but the studio record stays", async () => {
      await server.sql('UPDATE studios SET "upstreamStudioId" = 500 WHERE "id" = $1', [b.id]);
      await post(b.webhookKey, delivery(501, { type: 'STUDIO_OPENING_HOURS_UPDATED', timestamp: at(6) }));
      await post(b.webhookKey, delivery(501, { type: 'ADDITIONAL_INFORMATION_FIELDS_UPDATED', timestamp: at(6) }));
      expect(await studioFields(b.id)).toEqual({
        openingHoursUpdatedAt: null,
        additionalInformationFieldsUpdatedAt: null,
        upstreamStudioId: '500',
      });
      const { events } = await data(
        server,
        ADMIN_TOKEN,
        `{ events(filter: { studioIds: [${b.id}], entityIds: ["501"] }) { nodes { type known } } }`,
      );
      expect(events.nodes).toEqual([
        { type: 'STUDIO_OPENING_HOURS_UPDATED', known: true },
        { type: 'ADDITIONAL_INFORMATION_FIELDS_UPDATED', known: true },
      ]);

      await post(b.webhookKey, delivery(500, { type: 'STUDIO_OPENING_HOURS_UPDATED', timestamp: at(4) }));
      expect(await studioFields(b.id)).toEqual({
        openingHoursUpdatedAt: iso(4),
        additionalInformationFieldsUpdatedAt: null,
        upstreamStudioId: '500',
      });
    });

    it('when a member of the studio reads it, then the change times and opening hours are public; another studio is not visible', async () => {
      const body = await gql(
        server,
        memberA,
        `{ studio(id: ${a.id}) { name openingHoursUpdatedAt openingHours { dayOfWeekFrom } closingHours { reason } } }`,
      );
      expect(body).toEqual({
        data: { studio: { name: 'Alpha', openingHoursUpdatedAt: expect.any(String), openingHours: null, closingHours: null } },
      });
      expect(await studioFields(a.id, partnerB)).toBeNull();
    });

    it("when subscribed, then each type has its own field delivering the event with the studio, to the studio's partner and members only", async () => {
      const query = (field: string) =>
        `subscription { ${field} { event { type entityId studioId occurredAt } studio { id name openingHoursUpdatedAt additionalInformationFieldsUpdatedAt } } }`;
      const ofA = subscribe(connect(server.app.url, partnerA), query('studioOpeningHoursUpdated'));
      const member = subscribe(connect(server.app.url, memberA), query('studioOpeningHoursUpdated'));
      const ofB = subscribe(connect(server.app.url, partnerB), query('studioOpeningHoursUpdated'));
      const fields = subscribe(connect(server.app.url, partnerA), query('studioAdditionalInformationFieldsUpdated'));
      await listening(4);
      await post(a.webhookKey, delivery(700, { type: 'STUDIO_OPENING_HOURS_UPDATED', timestamp: at(20) }));
      await post(a.webhookKey, delivery(700, { type: 'ADDITIONAL_INFORMATION_FIELDS_UPDATED', timestamp: at(21) }));
      await post(b.webhookKey, delivery(500, { type: 'STUDIO_OPENING_HOURS_UPDATED', timestamp: at(22) }));

      const expected = {
        event: { type: 'STUDIO_OPENING_HOURS_UPDATED', entityId: '700', studioId: String(a.id), occurredAt: iso(20) },
        studio: {
          id: String(a.id),
          name: 'Alpha',
          openingHoursUpdatedAt: iso(20),
          additionalInformationFieldsUpdatedAt: expect.any(String),
        },
      };
      expect((await ofA.take(1))[0]).toEqual({ data: { studioOpeningHoursUpdated: expected } });
      expect((await member.take(1))[0]).toEqual({ data: { studioOpeningHoursUpdated: expected } });
      expect((await fields.take(1))[0]!.data!['studioAdditionalInformationFieldsUpdated']).toMatchObject({
        event: { type: 'ADDITIONAL_INFORMATION_FIELDS_UPDATED', occurredAt: iso(21) },
        studio: { additionalInformationFieldsUpdatedAt: iso(21) },
      });
      // B hears only its own studio's change (the third post), which arrives after A's two.
      const [onlyB] = await ofB.take(1);
      expect(onlyB!.data!['studioOpeningHoursUpdated']).toMatchObject({
        event: { studioId: String(b.id), occurredAt: iso(22) },
        studio: { name: 'Beta' },
      });
      expect(ofA.results).toHaveLength(1);
      expect(member.results).toHaveLength(1);
    });
  });

  describe('FINANCE_DEBT_COLLECTION_CASE_UPDATED', () => {
    const caseFields =
      'caseId caseIdSource agencyDebtCollectionCaseId collectionCaseId latestAdjustmentRequestId latestAdjustmentRequestAt firstEventAt studioId';

    it.each([
      ['neither id', {}, 'payload[0].content.agencyDebtCollectionCaseId', /agencyDebtCollectionCaseId or collectionCaseId/],
      [
        'both null',
        { agencyDebtCollectionCaseId: null, collectionCaseId: null },
        'payload[0].content.agencyDebtCollectionCaseId',
        /got neither/,
      ],
      [
        'an agency id that is no id',
        { agencyDebtCollectionCaseId: 'x1', collectionCaseId: 5 },
        'payload[0].content.agencyDebtCollectionCaseId',
        /integer id/,
      ],
      ['a collection id that is no id', { collectionCaseId: -3 }, 'payload[0].content.collectionCaseId', /integer id/],
    ])('when the content has %s, then 400 naming the field and nothing is stored', async (_what, content, field, message) => {
      const before = await eventCount();
      const response = await server.post(
        a.webhookKey,
        delivery(9000, { type: 'FINANCE_DEBT_COLLECTION_CASE_UPDATED', timestamp: at(1), content }),
      );
      expect(response.status).toBe(400);
      expect(response.body.error).toBe('invalid_payload');
      expect(response.body.problems).toEqual([{ field, message: expect.stringMatching(message) }]);
      expect(await eventCount()).toBe(before);
    });

    it('when adjustments arrive, then one record per case (the agency id if set, else the collection id) keeps the latest adjustment, whatever the order and repeats', async () => {
      const newest = delivery(9002, {
        type: 'FINANCE_DEBT_COLLECTION_CASE_UPDATED',
        timestamp: at(5),
        content: { agencyDebtCollectionCaseId: 700, collectionCaseId: 41 },
      });
      await post(a.webhookKey, newest);
      expect(await server.post(a.webhookKey, newest)).toMatchObject({ status: 200, body: { stored: 0, duplicates: 1 } });
      // Older, and without the collection id: it changes neither the latest request nor the ids.
      await post(
        a.webhookKey,
        delivery(9001, { type: 'FINANCE_DEBT_COLLECTION_CASE_UPDATED', timestamp: at(3), content: { agencyDebtCollectionCaseId: '700' } }),
      );
      // Collection id only (a digit string is an id too), and agency id 41 elsewhere: three separate cases.
      await post(
        a.webhookKey,
        delivery(9003, { type: 'FINANCE_DEBT_COLLECTION_CASE_UPDATED', timestamp: at(4), content: { collectionCaseId: '41' } }),
      );
      await post(
        b.webhookKey,
        delivery(9004, { type: 'FINANCE_DEBT_COLLECTION_CASE_UPDATED', timestamp: at(4), content: { agencyDebtCollectionCaseId: 41 } }),
      );

      const { debtCollectionCases } = await data(
        server,
        partnerA,
        `{ debtCollectionCases(orderBy: { field: CASE_ID }) { totalCount nodes { ${caseFields} studio { name } } } }`,
      );
      expect(debtCollectionCases).toEqual({
        totalCount: 2,
        nodes: [
          {
            caseId: '41',
            caseIdSource: 'COLLECTION',
            agencyDebtCollectionCaseId: null,
            collectionCaseId: '41',
            latestAdjustmentRequestId: '9003',
            latestAdjustmentRequestAt: iso(4),
            firstEventAt: iso(4),
            studioId: String(a.id),
            studio: { name: 'Alpha' },
          },
          {
            caseId: '700',
            caseIdSource: 'AGENCY',
            agencyDebtCollectionCaseId: '700',
            collectionCaseId: '41',
            latestAdjustmentRequestId: '9002',
            latestAdjustmentRequestAt: iso(5),
            firstEventAt: iso(3),
            studioId: String(a.id),
            studio: { name: 'Alpha' },
          },
        ],
      });
      const ofB = await data(server, partnerB, `{ debtCollectionCases { nodes { caseId caseIdSource studioId } } }`);
      expect(ofB.debtCollectionCases.nodes).toEqual([{ caseId: '41', caseIdSource: 'AGENCY', studioId: String(b.id) }]);
      const filtered = await data(
        server,
        ADMIN_TOKEN,
        `{ debtCollectionCases(filter: { caseIds: ["41"], caseIdSource: AGENCY }) { nodes { studioId } } }`,
      );
      expect(filtered.debtCollectionCases.nodes).toEqual([{ studioId: String(b.id) }]);

      // Another studio's token: its own filter naming A is FORBIDDEN, a lookup by our id is null; a member is refused.
      expect(codes(await gql(server, partnerB, `{ debtCollectionCases(filter: { studioIds: [${a.id}] }) { totalCount } }`))).toEqual([
        'FORBIDDEN',
      ]);
      const id = (await server.sql<{ id: number }>(`SELECT "id" FROM debt_collection_cases WHERE "caseId" = 700`))[0]!.id;
      expect(await data(server, partnerB, `{ debtCollectionCase(id: "${id}") { caseId } }`)).toEqual({ debtCollectionCase: null });
      expect(
        (await data(server, partnerA, `{ debtCollectionCase(id: "${id}") { caseId latestAdjustmentRequestId } }`)).debtCollectionCase,
      ).toEqual({ caseId: '700', latestAdjustmentRequestId: '9002' });
      expect(codes(await gql(server, memberA, `{ debtCollectionCases { totalCount } }`))).toEqual(['FORBIDDEN']);
    });

    it('when subscribed, then debtCollectionCaseUpdated delivers the event with the case to its studio only; members are refused', async () => {
      const query = `subscription { debtCollectionCaseUpdated { event { entityId content } debtCollectionCase { caseId caseIdSource latestAdjustmentRequestId } } }`;
      const ofA = subscribe(connect(server.app.url, partnerA), query);
      const ofB = subscribe(connect(server.app.url, partnerB), query);
      const member = subscribe(connect(server.app.url, memberA), query);
      await listening(2);
      await post(
        a.webhookKey,
        delivery(9100, { type: 'FINANCE_DEBT_COLLECTION_CASE_UPDATED', timestamp: at(30), content: { collectionCaseId: 77 } }),
      );
      await post(
        b.webhookKey,
        delivery(9101, { type: 'FINANCE_DEBT_COLLECTION_CASE_UPDATED', timestamp: at(31), content: { agencyDebtCollectionCaseId: 78 } }),
      );
      expect((await ofA.take(1))[0]).toEqual({
        data: {
          debtCollectionCaseUpdated: {
            event: { entityId: '9100', content: { collectionCaseId: 77 } },
            debtCollectionCase: { caseId: '77', caseIdSource: 'COLLECTION', latestAdjustmentRequestId: '9100' },
          },
        },
      });
      expect((await ofB.take(1))[0]!.data!['debtCollectionCaseUpdated'].debtCollectionCase).toEqual({
        caseId: '78',
        caseIdSource: 'AGENCY',
        latestAdjustmentRequestId: '9101',
      });
      expect(ofA.results).toHaveLength(1);
      await member.done.catch(() => undefined);
      expect(JSON.stringify(member.error() ?? member.results)).toContain('FORBIDDEN');
    });
  });

  describe('FINANCE_DEBT_COLLECTION_CONFIGURATION_UPDATED', () => {
    it('when it arrives, then the delivering studio keeps the time of the latest change and its entityId as it came, whatever the order and repeats', async () => {
      const newest = delivery(77, { type: 'FINANCE_DEBT_COLLECTION_CONFIGURATION_UPDATED', timestamp: at(5) });
      await post(a.webhookKey, newest);
      expect(await server.post(a.webhookKey, newest)).toMatchObject({ status: 200, body: { stored: 0, duplicates: 1 } });
      await post(a.webhookKey, delivery(76, { type: 'FINANCE_DEBT_COLLECTION_CONFIGURATION_UPDATED', timestamp: at(3) }));
      const query = '{ debtCollectionConfigurations { studioId latestEntityId firstEventAt lastEventAt } }';
      expect((await data(server, partnerA, query)).debtCollectionConfigurations).toEqual([
        { studioId: String(a.id), latestEntityId: '77', firstEventAt: iso(3), lastEventAt: iso(5) },
      ]);
      expect((await data(server, partnerB, query)).debtCollectionConfigurations).toEqual([]);
      expect(
        (await data(server, ADMIN_TOKEN, `{ debtCollectionConfigurations(studioIds: [${b.id}]) { studioId } }`))
          .debtCollectionConfigurations,
      ).toEqual([]);
      expect(codes(await gql(server, partnerB, `{ debtCollectionConfigurations(studioIds: [${a.id}]) { studioId } }`))).toEqual([
        'FORBIDDEN',
      ]);
      // Finance: not for members.
      expect(codes(await gql(server, memberA, query))).toEqual(['FORBIDDEN']);
    });

    it("when subscribed, then debtCollectionConfigurationUpdated delivers it with the record, to the studio's token only", async () => {
      const query =
        'subscription { debtCollectionConfigurationUpdated { event { entityId studioId } debtCollectionConfiguration { latestEntityId lastEventAt } } }';
      const ofA = subscribe(connect(server.app.url, partnerA), query);
      const ofB = subscribe(connect(server.app.url, partnerB), query);
      await listening(2);
      await post(a.webhookKey, delivery(80, { type: 'FINANCE_DEBT_COLLECTION_CONFIGURATION_UPDATED', timestamp: at(40) }));
      await post(b.webhookKey, delivery(81, { type: 'FINANCE_DEBT_COLLECTION_CONFIGURATION_UPDATED', timestamp: at(41) }));
      expect((await ofA.take(1))[0]).toEqual({
        data: {
          debtCollectionConfigurationUpdated: {
            event: { entityId: '80', studioId: String(a.id) },
            debtCollectionConfiguration: { latestEntityId: '80', lastEventAt: iso(40) },
          },
        },
      });
      expect((await ofB.take(1))[0]!.data!['debtCollectionConfigurationUpdated'].event).toEqual({ entityId: '81', studioId: String(b.id) });
      expect(ofA.results).toHaveLength(1);
    });
  });
});

describe.each(databaseKinds())('studio information from the Open API (%s)', (kind) => {
  let standin: Standin | undefined;
  let server: TestServer | undefined;
  afterEach(async () => {
    await disposeClients();
    await server?.stop();
    await standin?.close();
  });

  const post = async (target: TestServer, deliveries: readonly WebhookDelivery[]) => {
    for (const d of deliveries) expect((await target.post(d.webhookKey, d.body)).status).toBe(200);
  };

  it('when STUDIO_OPENING_HOURS_UPDATED arrives, then the opening hours, closures and upstream id are read and shown on the studio, and recordHydrated says so', async () => {
    const world = new World({ seed: 5, studios: 2, customersPerStudio: 1, days: 1 });
    standin = await startStandin({ world });
    server = await startTestServer(kind, {
      ADMIN_TOKEN,
      HYDRATION_DELAY_MS: '0',
      HYDRATION_POLL_MS: '20',
      HYDRATION_RETRY_BASE_MS: '20',
      HYDRATION_RETRY_MAX_MS: '200',
    });
    const ours = new Map<number, number>();
    for (const s of world.studios) {
      ours.set(s.id, (await server.addStudio({ name: s.name, webhookKey: s.webhookKey, apiKey: s.apiKey, tenantUrl: standin.baseUrl })).id);
    }
    const upstream = world.studios[0]!;
    const studioId = ours.get(upstream.id)!;
    const hydrated = subscribe(
      connect(server.app.url, ADMIN_TOKEN),
      'subscription { recordHydrated(kinds: [studio]) { kind changedFields event { entityId studioId } record { ... on Studio { id name } } } }',
    );
    await until(() => server!.app.subscriptions.subscriptions >= 1, 5000, 'the subscription');

    const from = world.deliveries.length;
    const closureFrom = Date.parse('2026-12-24T12:00:00Z');
    world.updateOpeningHours(upstream.id, {
      openingHours: [
        { dayOfWeekFrom: 'MONDAY', dayOfWeekTo: 'FRIDAY', timeFrom: '06:00', timeTo: '22:00' },
        { dayOfWeekFrom: 'SATURDAY', dayOfWeekTo: 'SUNDAY', timeFrom: '09:00', timeTo: '18:00' },
      ],
      closingHours: [{ reason: 'Christmas', from: closureFrom, to: closureFrom + 36 * 3600_000 }],
    });
    await post(server, world.deliveries.slice(from));

    const [message] = await hydrated.take(1, 20_000);
    expect(message!.data!['recordHydrated']).toEqual({
      kind: 'studio',
      changedFields: expect.arrayContaining(['upstreamStudioId', 'openingHours', 'closingHours']),
      event: { entityId: String(upstream.id), studioId: String(studioId) },
      record: { id: String(studioId), name: upstream.name },
    });
    const { studio } = await data(
      server,
      ADMIN_TOKEN,
      `{ studio(id: ${studioId}) { upstreamStudioId hydratedAt openingHoursUpdatedAt
      openingHours { dayOfWeekFrom dayOfWeekTo timeFrom timeTo } closingHours { reason from to } } }`,
    );
    expect(studio).toEqual({
      upstreamStudioId: String(upstream.id),
      hydratedAt: expect.any(String),
      openingHoursUpdatedAt: new Date(world.now).toISOString(),
      openingHours: [
        { dayOfWeekFrom: 'MONDAY', dayOfWeekTo: 'FRIDAY', timeFrom: '06:00', timeTo: '22:00' },
        { dayOfWeekFrom: 'SATURDAY', dayOfWeekTo: 'SUNDAY', timeFrom: '09:00', timeTo: '18:00' },
      ],
      closingHours: [
        { reason: 'Christmas', from: new Date(closureFrom).toISOString(), to: new Date(closureFrom + 36 * 3600_000).toISOString() },
      ],
    });
    // The other studio announced nothing: nothing read.
    const other = await data(
      server,
      ADMIN_TOKEN,
      `{ studio(id: ${ours.get(world.studios[1]!.id)!}) { upstreamStudioId openingHours { timeFrom } } }`,
    );
    expect(other.studio).toEqual({ upstreamStudioId: null, openingHours: null });

    // Now that the registry knows the upstream id, an event naming another studio leaves the record alone.
    const before = studio.openingHoursUpdatedAt;
    const stray = {
      entityId: upstream.id + 1000,
      uuid: crypto.randomUUID(),
      payload: [{ type: 'STUDIO_OPENING_HOURS_UPDATED', timestamp: world.now + 60_000 }],
    };
    expect((await server.post(upstream.webhookKey, stray)).status).toBe(200);
    expect((await data(server, ADMIN_TOKEN, `{ studio(id: ${studioId}) { openingHoursUpdatedAt } }`)).studio.openingHoursUpdatedAt).toBe(
      before,
    );
  });
});

describe.each(databaseKinds())("the stand-in's sister-platform history (%s)", (kind) => {
  let standin: Standin | undefined;
  let server: TestServer | undefined;
  afterEach(async () => {
    await server?.stop();
    await standin?.close();
  });

  it('when every delivery of a history with studio and finance events is posted (duplicates too), then studios, cases and settings match the upstream world', async () => {
    const world = new World({ seed: 8, studios: 2, customersPerStudio: 6, days: 4, sisterEvents: true });
    standin = await startStandin({ world });
    server = await startTestServer(kind, {
      ADMIN_TOKEN,
      HYDRATION_DELAY_MS: '0',
      HYDRATION_POLL_MS: '20',
      HYDRATION_RETRY_BASE_MS: '20',
      HYDRATION_RETRY_MAX_MS: '200',
    });
    const ours = new Map<number, number>();
    for (const s of world.studios) {
      ours.set(s.id, (await server.addStudio({ name: s.name, webhookKey: s.webhookKey, apiKey: s.apiKey, tenantUrl: standin.baseUrl })).id);
    }
    const mine = (type: string) => world.deliveries.filter((d) => d.body.payload.some((e) => e.type === type));
    const relevant = [
      'STUDIO_OPENING_HOURS_UPDATED',
      'ADDITIONAL_INFORMATION_FIELDS_UPDATED',
      'FINANCE_DEBT_COLLECTION_CONFIGURATION_UPDATED',
      'FINANCE_DEBT_COLLECTION_CASE_UPDATED',
    ];
    for (const type of relevant) expect({ type, delivered: mine(type).length > 0 }).toEqual({ type, delivered: true });
    // Everything, newest first (so every older event arrives late), and the studio and finance ones twice.
    const all = [...world.deliveries].reverse();
    for (const d of [...all, ...relevant.flatMap(mine)]) expect((await server.post(d.webhookKey, d.body)).status).toBe(200);

    const latest = (type: string, studioId: number) =>
      Math.max(
        ...mine(type)
          .filter((d) => d.studioId === studioId)
          .map((d) => d.body.payload[0]!.timestamp),
      );
    await until(
      async () => {
        const [open] = await server!.sql(
          `SELECT COUNT(*) AS "n" FROM hydration_jobs WHERE "kind" = 'studio_information' AND "state" <> 'done'`,
        );
        const [jobs] = await server!.sql(`SELECT COUNT(*) AS "n" FROM hydration_jobs WHERE "kind" = 'studio_information'`);
        return Number(open.n) === 0 && Number(jobs.n) > 0;
      },
      20_000,
      'the studio information to be read',
    );
    for (const upstream of world.studios) {
      const { studio } = await data(
        server,
        ADMIN_TOKEN,
        `{ studio(id: ${ours.get(upstream.id)!}) { upstreamStudioId openingHoursUpdatedAt additionalInformationFieldsUpdatedAt
        openingHours { dayOfWeekFrom dayOfWeekTo timeFrom timeTo } closingHours { reason from to } } }`,
      );
      const announced = (type: string) => mine(type).some((d) => d.studioId === upstream.id);
      const iso = (type: string) => (announced(type) ? new Date(latest(type, upstream.id)).toISOString() : null);
      expect(studio).toEqual({
        upstreamStudioId: announced('STUDIO_OPENING_HOURS_UPDATED') ? String(upstream.id) : null,
        openingHoursUpdatedAt: iso('STUDIO_OPENING_HOURS_UPDATED'),
        additionalInformationFieldsUpdatedAt: iso('ADDITIONAL_INFORMATION_FIELDS_UPDATED'),
        openingHours: announced('STUDIO_OPENING_HOURS_UPDATED') ? upstream.openingHours : null,
        closingHours: announced('STUDIO_OPENING_HOURS_UPDATED')
          ? upstream.closingHours.map((h) => ({ reason: h.reason, from: new Date(h.from).toISOString(), to: new Date(h.to).toISOString() }))
          : null,
      });
    }

    // A case's record is keyed by the id its latest adjustment named: the agency's once it has one.
    const { debtCollectionCases } = await data(
      server,
      ADMIN_TOKEN,
      '{ debtCollectionCases(first: 100) { nodes { caseIdSource caseId latestAdjustmentRequestId studioId } } }',
    );
    const expected = mine('FINANCE_DEBT_COLLECTION_CASE_UPDATED').map((d) => {
      const content = d.body.payload[0]!.content as { agencyDebtCollectionCaseId?: number; collectionCaseId?: number };
      return {
        d,
        key:
          content.agencyDebtCollectionCaseId !== undefined
            ? `AGENCY:${content.agencyDebtCollectionCaseId}`
            : `COLLECTION:${content.collectionCaseId}`,
      };
    });
    const byKey = new Map<string, (typeof expected)[number]['d']>();
    for (const { d, key } of expected) {
      const seen = byKey.get(key);
      if (!seen || seen.body.payload[0]!.timestamp < d.body.payload[0]!.timestamp) byKey.set(key, d);
    }
    expect(
      debtCollectionCases.nodes.map((n: any) => `${n.caseIdSource}:${n.caseId}:${n.latestAdjustmentRequestId}:${n.studioId}`).sort(),
    ).toEqual([...byKey].map(([key, d]) => `${key}:${d.body.entityId}:${ours.get(d.studioId)!}`).sort());

    const { debtCollectionConfigurations } = await data(server, ADMIN_TOKEN, '{ debtCollectionConfigurations { studioId lastEventAt } }');
    expect(debtCollectionConfigurations).toEqual(
      world.studios
        .filter((s) => mine('FINANCE_DEBT_COLLECTION_CONFIGURATION_UPDATED').some((d) => d.studioId === s.id))
        .map((s) => ({
          studioId: String(ours.get(s.id)!),
          lastEventAt: new Date(latest('FINANCE_DEBT_COLLECTION_CONFIGURATION_UPDATED', s.id)).toISOString(),
        }))
        .sort((x, y) => Number(x.studioId) - Number(y.studioId)),
    );
  });
});
