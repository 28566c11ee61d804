import { randomUUID } from 'node:crypto';
import { startStandin } from '../tools/upstream-standin/server.js';
import { World } from '../tools/upstream-standin/world.js';
import { TokenService } from '../src/domains/access/token.service.js';
import { databaseKinds } from './support/databases.js';
import { startTestServer, type TestServer } from './support/server.js';
import { connect, disposeClients, subscribe, until } from './support/ws.js';

const ADMIN_TOKEN = 'test-admin-token-0123456789';
const T0 = Date.parse('2026-03-02T07:00:00Z');
const at = (minutes: number) => T0 + minutes * 60_000;
const iso = (minutes: number) => new Date(at(minutes)).toISOString();

type Content = Record<string, unknown>;
/** One webhook element: type, minutes after T0, content. */
type Step = readonly [type: string, minutes: number, content: Content];

const RECORD = 'studioId firstEventAt lastEventAt';
const IDLE_PERIOD = `idlePeriodId contractId customerId status statusAt createdAt updatedAt cancelledAt idlePeriodAmount usedFreeTermsInDays ${RECORD}`;
const MODULE = `moduleContractId contractId customerId status statusAt createdAt updatedAt cancelledAt deletedAt ${RECORD}`;
const CONTRACT = `contractId customerId createdAt updatedAt cancelledAt ${RECORD}`;

describe.each(databaseKinds())('contract events: CONTRACT_CANCELLED, CONTRACT_IDLE_PERIOD_*, CONTRACT_ADDITIONAL_MODULE_* (%s)', (kind) => {
  let server: TestServer;
  /** Two studios of one operator; a partner token of B only. */
  let a: { id: number; tenantId: number; webhookKey: string };
  let b: { id: number; tenantId: number; webhookKey: string };
  let partnerB: string;
  /** Fresh upstream ids per test, so that tests do not see each other's records. */
  let nextId = 10_000;
  const fresh = () => (nextId += 100);

  const gql = async (query: string, variables: Record<string, unknown> = {}, token = ADMIN_TOKEN) => {
    const response = await fetch(`${server.app.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query, variables }),
    });
    const result = (await response.json()) as { data?: any; errors?: unknown[] };
    expect(result.errors).toBeUndefined();
    return result.data;
  };

  const body = (customerId: number, [type, minutes, content]: Step, uuid: string = randomUUID()) => ({
    entityId: customerId,
    uuid,
    payload: [{ type, timestamp: at(minutes), content }],
  });
  const post = async (studio: { webhookKey: string }, customerId: number, step: Step, uuid?: string) => {
    const response = await server.post(studio.webhookKey, body(customerId, step, uuid));
    expect(response.status).toBe(200);
  };

  /** The contract with its idle periods and modules, as the admin reads it over GraphQL. */
  const contract = async (contractId: number, token = ADMIN_TOKEN) => {
    const data = await gql(
      `query($ids: [ID!]) { contracts(first: 1, filter: { contractIds: $ids }) { nodes { ${CONTRACT}
        idlePeriods(first: 20) { ${IDLE_PERIOD} } additionalModules(first: 20) { ${MODULE} } } } }`,
      { ids: [String(contractId)] },
      token,
    );
    return data.contracts.nodes[0] ?? null;
  };

  /**
   * Records of one contract with the ids that differ between two runs of the same story replaced,
   * its lists by upstream id (records whose earliest events tie are listed by our id, i.e. by arrival).
   */
  const normalised = (record: any, ids: Record<string, string>) => {
    const renamed = JSON.parse(JSON.stringify(record).replace(/"(\d+)"/g, (m, id: string) => (ids[id] ? `"${ids[id]}"` : m)));
    renamed.idlePeriods.sort((x: any, y: any) => Number(x.idlePeriodId) - Number(y.idlePeriodId));
    renamed.additionalModules.sort((x: any, y: any) => Number(x.moduleContractId) - Number(y.moduleContractId));
    return renamed;
  };

  beforeAll(async () => {
    server = await startTestServer(kind, { ADMIN_TOKEN });
    a = await server.addStudio({ name: 'Alpha', tenantUrl: 'https://acme.example/v1' });
    b = await server.addStudio({ name: 'Beta', tenantUrl: 'https://acme.example/v1' });
    expect(b.tenantId).toBe(a.tenantId);
    partnerB = (await new TokenService(server.app.dataSource).create({ role: 'partner', studios: [b.id] })).token;
  });
  afterEach(() => disposeClients());
  afterAll(() => server.stop());

  describe('POST /webhooks: content', () => {
    const IDLE = { contractId: 1, idlePeriodId: 2, idlePeriodAmount: 3, usedFreeTermsInDays: 4 };
    const MOD = { contractId: 1, moduleContractId: 2 };
    it.each([
      ['CONTRACT_CANCELLED', 'contractId', {}],
      ['CONTRACT_CANCELLED', 'contractId', { contractId: 'abc' }],
      ['CONTRACT_IDLE_PERIOD_CREATED', 'contractId', { ...IDLE, contractId: -1 }],
      ['CONTRACT_IDLE_PERIOD_CREATED', 'idlePeriodId', { ...IDLE, idlePeriodId: undefined }],
      ['CONTRACT_IDLE_PERIOD_CREATED', 'idlePeriodAmount', { ...IDLE, idlePeriodAmount: -1 }],
      ['CONTRACT_IDLE_PERIOD_UPDATED', 'idlePeriodAmount', { ...IDLE, idlePeriodAmount: 'two weeks' }],
      ['CONTRACT_IDLE_PERIOD_UPDATED', 'usedFreeTermsInDays', { ...IDLE, usedFreeTermsInDays: 1.5 }],
      ['CONTRACT_IDLE_PERIOD_CANCELLED', 'usedFreeTermsInDays', { ...IDLE, usedFreeTermsInDays: 2 ** 31 }],
      ['CONTRACT_IDLE_PERIOD_CANCELLED', 'idlePeriodId', { ...IDLE, idlePeriodId: null }],
      ['CONTRACT_ADDITIONAL_MODULE_CREATED', 'moduleContractId', { contractId: 1 }],
      ['CONTRACT_ADDITIONAL_MODULE_UPDATED', 'contractId', { ...MOD, contractId: null }],
      ['CONTRACT_ADDITIONAL_MODULE_DELETED', 'moduleContractId', { ...MOD, moduleContractId: '12x' }],
      ['CONTRACT_ADDITIONAL_MODULE_CANCELLED', 'moduleContractId', { ...MOD, moduleContractId: true }],
    ])('when %s has no valid content.%s (%j), then 400 naming it and nothing is stored', async (type, field, content) => {
      const delivery = body(1, [type, 1, JSON.parse(JSON.stringify(content)) as Content]);
      const response = await server.post(a.webhookKey, delivery);
      expect(response.status).toBe(400);
      expect(response.body.problems).toEqual(
        expect.arrayContaining([{ field: `payload[0].content.${field}`, message: expect.stringContaining(type) }]),
      );
      expect(await server.sql('SELECT seq FROM events WHERE uuid = $1', [delivery.uuid])).toEqual([]);
    });

    it('when an idle period has no amounts (an unlimited pause) or null ones, or digit strings, then it is accepted', async () => {
      const customer = fresh();
      await post(a, customer, ['CONTRACT_IDLE_PERIOD_CREATED', 1, { contractId: customer + 1, idlePeriodId: customer + 2 }]);
      await post(a, customer, [
        'CONTRACT_IDLE_PERIOD_UPDATED',
        2,
        { contractId: customer + 1, idlePeriodId: customer + 2, idlePeriodAmount: null, usedFreeTermsInDays: null },
      ]);
      await post(a, customer, [
        'CONTRACT_IDLE_PERIOD_UPDATED',
        3,
        { contractId: String(customer + 1), idlePeriodId: String(customer + 2), idlePeriodAmount: '14', usedFreeTermsInDays: 0 },
      ]);
      const [pause] = (await contract(customer + 1)).idlePeriods;
      expect(pause).toMatchObject({ idlePeriodAmount: 14, usedFreeTermsInDays: 0, status: 'ACTIVE', createdAt: iso(1), updatedAt: iso(3) });
    });
  });

  describe('CONTRACT_CANCELLED', () => {
    it('when a contract is cancelled, then cancelledAt is the event time, the customer and contract exist, and a duplicate or an older cancellation change nothing', async () => {
      const customer = fresh();
      const contractId = customer + 1;
      await post(a, customer, ['CONTRACT_CREATED', 1, { contractId }]);
      const uuid = randomUUID();
      await post(a, customer, ['CONTRACT_CANCELLED', 5, { contractId }], uuid);
      const expected = {
        contractId: String(contractId),
        customerId: String(customer),
        createdAt: iso(1),
        updatedAt: null,
        cancelledAt: iso(5),
        studioId: String(a.id),
        firstEventAt: iso(1),
        lastEventAt: iso(5),
      };
      expect(await contract(contractId)).toMatchObject(expected);
      // The same delivery again (same uuid): stored once, no effect.
      const again = await server.post(a.webhookKey, body(customer, ['CONTRACT_CANCELLED', 5, { contractId }], uuid));
      expect(again.status).toBe(200);
      expect(await server.sql('SELECT seq FROM events WHERE uuid = $1', [uuid])).toHaveLength(1);
      // An older cancellation delivered late: the latest stays.
      await post(b, customer, ['CONTRACT_CANCELLED', 3, { contractId }]);
      expect(await contract(contractId)).toMatchObject({ ...expected, cancelledAt: iso(5) });
      const data = await gql(
        `query($ids: [ID!]) { customers(first: 1, filter: { customerIds: $ids }) { nodes { customerId contracts { contractId cancelledAt } } } }`,
        { ids: [String(customer)] },
      );
      expect(data.customers.nodes).toEqual([
        { customerId: String(customer), contracts: [{ contractId: String(contractId), cancelledAt: iso(5) }] },
      ]);
    });

    it('when the cancellation arrives before the creation, then the contract ends the same as in order', async () => {
      const [one, two] = [fresh(), fresh()];
      await post(a, one, ['CONTRACT_CREATED', 1, { contractId: one + 1 }]);
      await post(a, one, ['CONTRACT_CANCELLED', 4, { contractId: one + 1 }]);
      await post(a, two, ['CONTRACT_CANCELLED', 4, { contractId: two + 1 }]);
      await post(a, two, ['CONTRACT_CREATED', 1, { contractId: two + 1 }]);
      const ids = { [String(two)]: String(one), [String(two + 1)]: String(one + 1) };
      expect(normalised(await contract(two + 1), ids)).toEqual(await contract(one + 1));
    });

    it('when reports count cancellations, then the members report and contractStats agree, by the hydrated day only, never by cancelledAt', async () => {
      // Cancelled late on 2026-03-02 in UTC: already 2026-03-03 in Berlin. The upstream's day says 2026-03-02.
      const customer = fresh();
      const [k1, k2, k3] = [customer + 1, customer + 2, customer + 3];
      for (const k of [k1, k2, k3]) await post(b, customer, ['CONTRACT_CREATED', -60 * 24, { contractId: k }]);
      for (const k of [k1, k2, k3]) await post(b, customer, ['CONTRACT_CANCELLED', 16 * 60 + 45, { contractId: k }]);
      const counts = async () => {
        const range = { from: '2026-03-01T00:00:00+01:00', to: '2026-03-05T00:00:00+01:00' };
        const data = await gql(
          `query($range: TimeRangeInput!, $studios: [ID!]) {
            membersReport(studioIds: $studios, date: "2026-03-04", timeZone: "Europe/Berlin") { contracts(range: $range, groupBy: DAY) { label cancelled } }
            contractStats(range: $range, timeZone: "Europe/Berlin", studioIds: $studios) { label cancelled } }`,
          { range, studios: [String(b.id)] },
        );
        const report = Object.fromEntries(data.membersReport.contracts.map((p: any) => [p.label, p.cancelled]));
        const stats = Object.fromEntries(data.contractStats.map((p: any) => [p.label, p.cancelled]));
        return { report, stats };
      };
      // Not hydrated yet: counted nowhere, though cancelledAt is set.
      const before = await counts();
      expect(before.report).toEqual(before.stats);
      expect(Object.values(before.report).every((n) => n === 0)).toBe(true);
      // Hydration (here by hand): k1 cancelled on the upstream's day; k2's cancellation withdrawn upstream (a date, but not cancelled); k3 not read yet.
      await server.sql(`UPDATE contracts SET "cancelled" = TRUE, "cancellationDate" = '2026-03-02' WHERE "contractId" = $1`, [k1]);
      await server.sql(`UPDATE contracts SET "cancelled" = FALSE, "cancellationDate" = '2026-03-02' WHERE "contractId" = $1`, [k2]);
      const after = await counts();
      expect(after.report).toEqual(after.stats);
      expect(after.report).toEqual({ '2026-03-01': 0, '2026-03-02': 1, '2026-03-03': 0, '2026-03-04': 0 });
    });
  });

  describe('CONTRACT_IDLE_PERIOD_*', () => {
    /** A pause created, changed (now unlimited), cancelled, created again later; and a second pause whose update and cancellation tie. */
    const story = (contractId: number, p1: number, p2: number): Step[] => [
      ['CONTRACT_IDLE_PERIOD_CREATED', 1, { contractId, idlePeriodId: p1, idlePeriodAmount: 14, usedFreeTermsInDays: 14 }],
      ['CONTRACT_IDLE_PERIOD_UPDATED', 2, { contractId, idlePeriodId: p1 }],
      ['CONTRACT_IDLE_PERIOD_CANCELLED', 3, { contractId, idlePeriodId: p1 }],
      ['CONTRACT_IDLE_PERIOD_CREATED', 2, { contractId, idlePeriodId: p2, idlePeriodAmount: 2 }],
      ['CONTRACT_IDLE_PERIOD_UPDATED', 4, { contractId, idlePeriodId: p2, idlePeriodAmount: 3, usedFreeTermsInDays: 7 }],
      ['CONTRACT_IDLE_PERIOD_CANCELLED', 4, { contractId, idlePeriodId: p2, idlePeriodAmount: 3, usedFreeTermsInDays: 7 }],
    ];

    it('when pauses are created, changed and cancelled, then each is a record under the contract: latest event decides, a cancellation wins a tie, amounts follow the latest event', async () => {
      const customer = fresh();
      const [contractId, p1, p2] = [customer + 1, customer + 2, customer + 3];
      for (const step of story(contractId, p1, p2)) await post(a, customer, step);
      const record = await contract(contractId);
      expect(record).toMatchObject({
        contractId: String(contractId),
        customerId: String(customer),
        createdAt: null,
        cancelledAt: null,
        lastEventAt: iso(4),
      });
      const common = { contractId: String(contractId), customerId: String(customer), studioId: String(a.id) };
      expect(record.idlePeriods).toEqual([
        {
          ...common,
          idlePeriodId: String(p2),
          status: 'CANCELLED',
          statusAt: iso(4),
          createdAt: iso(2),
          updatedAt: iso(4),
          cancelledAt: iso(4),
          idlePeriodAmount: 3,
          usedFreeTermsInDays: 7,
          firstEventAt: iso(2),
          lastEventAt: iso(4),
        },
        {
          ...common,
          idlePeriodId: String(p1),
          status: 'CANCELLED',
          statusAt: iso(3),
          createdAt: iso(1),
          updatedAt: iso(2),
          cancelledAt: iso(3),
          idlePeriodAmount: null,
          usedFreeTermsInDays: null,
          firstEventAt: iso(1),
          lastEventAt: iso(3),
        },
      ]);
      // A later CREATED of the same pause (the upstream reinstated it): the latest event decides.
      await post(a, customer, ['CONTRACT_IDLE_PERIOD_UPDATED', 9, { contractId, idlePeriodId: p1, idlePeriodAmount: 1 }]);
      expect((await contract(contractId)).idlePeriods[1]).toMatchObject({
        status: 'ACTIVE',
        statusAt: iso(9),
        idlePeriodAmount: 1,
        cancelledAt: iso(3),
      });
    });

    it('when the same events arrive reversed, shuffled, duplicated and from two studios, then the records are the same as in order', async () => {
      const ordered = fresh();
      const steps = story(ordered + 1, ordered + 2, ordered + 3);
      for (const step of steps) await post(a, ordered, step);
      const expected = normalised(await contract(ordered + 1), {});
      for (const arrange of [(s: Step[]) => [...s].reverse(), (s: Step[]) => [s[3]!, s[5]!, s[0]!, s[4]!, s[2]!, s[1]!]]) {
        const other = fresh();
        const mine = story(other + 1, other + 2, other + 3);
        // The earliest event comes from A (its studio owns the records); repeats, from B, add nothing.
        for (const step of arrange(mine)) await post(a, other, step);
        for (const step of mine.slice(2)) await post(b, other, step);
        const ids = Object.fromEntries([0, 1, 2, 3].map((i) => [String(other + i), String(ordered + i)]));
        expect(normalised(await contract(other + 1), ids)).toEqual(expected);
      }
    });
  });

  describe('CONTRACT_ADDITIONAL_MODULE_*', () => {
    /** m1: created, changed, cancelled; m2: created, deleted; m3: cancelled and deleted at the same time; m4: updated only. */
    const story = (contractId: number, [m1, m2, m3, m4]: readonly number[]): Step[] => [
      ['CONTRACT_ADDITIONAL_MODULE_CREATED', 1, { contractId, moduleContractId: m1 }],
      ['CONTRACT_ADDITIONAL_MODULE_UPDATED', 2, { contractId, moduleContractId: m1 }],
      ['CONTRACT_ADDITIONAL_MODULE_CANCELLED', 3, { contractId, moduleContractId: m1 }],
      ['CONTRACT_ADDITIONAL_MODULE_CREATED', 1, { contractId, moduleContractId: m2 }],
      ['CONTRACT_ADDITIONAL_MODULE_DELETED', 4, { contractId, moduleContractId: m2 }],
      ['CONTRACT_ADDITIONAL_MODULE_CREATED', 2, { contractId, moduleContractId: m3 }],
      ['CONTRACT_ADDITIONAL_MODULE_CANCELLED', 5, { contractId, moduleContractId: m3 }],
      ['CONTRACT_ADDITIONAL_MODULE_DELETED', 5, { contractId, moduleContractId: m3 }],
      ['CONTRACT_ADDITIONAL_MODULE_UPDATED', 6, { contractId, moduleContractId: m4 }],
    ];
    const modules = (base: number) => [base + 2, base + 3, base + 4, base + 5];

    it('when modules are added, changed, cancelled and deleted, then each is a record under the main contract; a deleted one stays as a tombstone', async () => {
      const customer = fresh();
      const contractId = customer + 1;
      for (const step of story(contractId, modules(customer))) await post(a, customer, step);
      const [m1, m2, m3, m4] = modules(customer).map(String);
      const byId = Object.fromEntries((await contract(contractId)).additionalModules.map((m: any) => [m.moduleContractId, m]));
      expect(byId[m1!]).toMatchObject({
        contractId: String(contractId),
        customerId: String(customer),
        status: 'CANCELLED',
        statusAt: iso(3),
        createdAt: iso(1),
        updatedAt: iso(2),
        cancelledAt: iso(3),
        deletedAt: null,
      });
      expect(byId[m2!]).toMatchObject({ status: 'DELETED', statusAt: iso(4), createdAt: iso(1), deletedAt: iso(4) });
      expect(byId[m3!]).toMatchObject({ status: 'DELETED', statusAt: iso(5), cancelledAt: iso(5), deletedAt: iso(5) });
      expect(byId[m4!]).toMatchObject({ status: 'ACTIVE', statusAt: iso(6), createdAt: null, updatedAt: iso(6) });
      // A late (older) CREATED of the deleted module: the tombstone stays.
      await post(a, customer, ['CONTRACT_ADDITIONAL_MODULE_CREATED', 0, { contractId, moduleContractId: Number(m2) }]);
      const late = (await contract(contractId)).additionalModules.find((m: any) => m.moduleContractId === m2);
      expect(late).toMatchObject({ status: 'DELETED', createdAt: iso(0), deletedAt: iso(4) });
    });

    it('when the same events arrive reversed, shuffled and duplicated, then the records are the same as in order (the DELETED/CANCELLED tie included)', async () => {
      const ordered = fresh();
      for (const step of story(ordered + 1, modules(ordered))) await post(a, ordered, step);
      const expected = normalised(await contract(ordered + 1), {});
      for (const arrange of [
        (s: Step[]) => [...s].reverse(),
        (s: Step[]) => [s[7]!, s[4]!, s[8]!, s[0]!, s[6]!, s[2]!, s[5]!, s[1]!, s[3]!],
      ]) {
        const other = fresh();
        const mine = story(other + 1, modules(other));
        for (const step of arrange(mine)) await post(a, other, step);
        for (const step of [...mine].reverse()) await post(b, other, step);
        const ids = Object.fromEntries([0, 1, 2, 3, 4, 5].map((i) => [String(other + i), String(ordered + i)]));
        expect(normalised(await contract(other + 1), ids)).toEqual(expected);
      }
    });
  });

  describe('one delivery carrying many elements (merged in memory before the upsert)', () => {
    it('when a whole story arrives reversed in one delivery, then pauses and modules end as when posted one by one in order', async () => {
      const ordered = fresh();
      const steps = (base: number): Step[] => [
        ['CONTRACT_IDLE_PERIOD_CREATED', 1, { contractId: base + 1, idlePeriodId: base + 2, idlePeriodAmount: 4 }],
        ['CONTRACT_IDLE_PERIOD_UPDATED', 3, { contractId: base + 1, idlePeriodId: base + 2, idlePeriodAmount: 5 }],
        ['CONTRACT_IDLE_PERIOD_CANCELLED', 3, { contractId: base + 1, idlePeriodId: base + 2, idlePeriodAmount: 5 }],
        ['CONTRACT_ADDITIONAL_MODULE_CREATED', 1, { contractId: base + 1, moduleContractId: base + 3 }],
        ['CONTRACT_ADDITIONAL_MODULE_UPDATED', 4, { contractId: base + 1, moduleContractId: base + 3 }],
        ['CONTRACT_ADDITIONAL_MODULE_CANCELLED', 4, { contractId: base + 1, moduleContractId: base + 3 }],
        ['CONTRACT_ADDITIONAL_MODULE_DELETED', 4, { contractId: base + 1, moduleContractId: base + 3 }],
        ['CONTRACT_CANCELLED', 5, { contractId: base + 1 }],
      ];
      for (const step of steps(ordered)) await post(a, ordered, step);
      const expected = normalised(await contract(ordered + 1), {});
      expect(expected.idlePeriods[0]).toMatchObject({ status: 'CANCELLED', idlePeriodAmount: 5 });
      expect(expected.additionalModules[0]).toMatchObject({ status: 'DELETED' });
      const other = fresh();
      const payload = [...steps(other)].reverse().map(([type, minutes, content]) => ({ type, timestamp: at(minutes), content }));
      const response = await server.post(a.webhookKey, { entityId: other, uuid: randomUUID(), payload });
      expect(response.status).toBe(200);
      const ids = Object.fromEntries([0, 1, 2, 3].map((i) => [String(other + i), String(ordered + i)]));
      expect(normalised(await contract(other + 1), ids)).toEqual(expected);
    });
  });

  describe('GraphQL and subscriptions: studio scope', () => {
    it("when a token of another studio asks, then it sees neither the contract nor its pauses and modules; its own studio's it sees", async () => {
      const customer = fresh();
      await post(a, customer, ['CONTRACT_IDLE_PERIOD_CREATED', 1, { contractId: customer + 1, idlePeriodId: customer + 2 }]);
      await post(a, customer, ['CONTRACT_ADDITIONAL_MODULE_CREATED', 1, { contractId: customer + 1, moduleContractId: customer + 3 }]);
      expect(await contract(customer + 1, partnerB)).toBeNull();
      // B delivers a pause of the same contract later: B sees that pause, not A's contract.
      await post(b, customer, ['CONTRACT_IDLE_PERIOD_CREATED', 2, { contractId: customer + 1, idlePeriodId: customer + 4 }]);
      expect(await contract(customer + 1, partnerB)).toBeNull();
      const admin = await contract(customer + 1);
      expect(admin.idlePeriods.map((p: any) => [p.idlePeriodId, p.studioId])).toEqual([
        [String(customer + 4), String(b.id)],
        [String(customer + 2), String(a.id)],
      ]);
      expect(admin.additionalModules).toHaveLength(1);
    });

    it.each([
      [
        'CONTRACT_CANCELLED',
        'contractCancelled',
        'contract { contractId cancelledAt } customer { customerId }',
        (id: number) => ({ contractId: id + 1 }),
        (id: number) => ({ contract: { contractId: String(id + 1), cancelledAt: iso(7) }, customer: { customerId: String(id) } }),
      ],
      [
        'CONTRACT_IDLE_PERIOD_CREATED',
        'contractIdlePeriodCreated',
        `idlePeriod { idlePeriodId status idlePeriodAmount } contract { contractId } customer { customerId }`,
        (id: number) => ({ contractId: id + 1, idlePeriodId: id + 2, idlePeriodAmount: 5 }),
        (id: number) => ({
          idlePeriod: { idlePeriodId: String(id + 2), status: 'ACTIVE', idlePeriodAmount: 5 },
          contract: { contractId: String(id + 1) },
          customer: { customerId: String(id) },
        }),
      ],
      [
        'CONTRACT_IDLE_PERIOD_UPDATED',
        'contractIdlePeriodUpdated',
        `idlePeriod { idlePeriodId status updatedAt } contract { contractId }`,
        (id: number) => ({ contractId: id + 1, idlePeriodId: id + 2 }),
        (id: number) => ({
          idlePeriod: { idlePeriodId: String(id + 2), status: 'ACTIVE', updatedAt: iso(7) },
          contract: { contractId: String(id + 1) },
        }),
      ],
      [
        'CONTRACT_IDLE_PERIOD_CANCELLED',
        'contractIdlePeriodCancelled',
        `idlePeriod { idlePeriodId status cancelledAt } contract { contractId }`,
        (id: number) => ({ contractId: id + 1, idlePeriodId: id + 2 }),
        (id: number) => ({
          idlePeriod: { idlePeriodId: String(id + 2), status: 'CANCELLED', cancelledAt: iso(7) },
          contract: { contractId: String(id + 1) },
        }),
      ],
      [
        'CONTRACT_ADDITIONAL_MODULE_CREATED',
        'contractAdditionalModuleCreated',
        `additionalModule { moduleContractId contractId status } contract { contractId } customer { customerId }`,
        (id: number) => ({ contractId: id + 1, moduleContractId: id + 2 }),
        (id: number) => ({
          additionalModule: { moduleContractId: String(id + 2), contractId: String(id + 1), status: 'ACTIVE' },
          contract: { contractId: String(id + 1) },
          customer: { customerId: String(id) },
        }),
      ],
      [
        'CONTRACT_ADDITIONAL_MODULE_UPDATED',
        'contractAdditionalModuleUpdated',
        `additionalModule { moduleContractId status updatedAt }`,
        (id: number) => ({ contractId: id + 1, moduleContractId: id + 2 }),
        (id: number) => ({ additionalModule: { moduleContractId: String(id + 2), status: 'ACTIVE', updatedAt: iso(7) } }),
      ],
      [
        'CONTRACT_ADDITIONAL_MODULE_DELETED',
        'contractAdditionalModuleDeleted',
        `additionalModule { moduleContractId status deletedAt }`,
        (id: number) => ({ contractId: id + 1, moduleContractId: id + 2 }),
        (id: number) => ({ additionalModule: { moduleContractId: String(id + 2), status: 'DELETED', deletedAt: iso(7) } }),
      ],
      [
        'CONTRACT_ADDITIONAL_MODULE_CANCELLED',
        'contractAdditionalModuleCancelled',
        `additionalModule { moduleContractId status cancelledAt }`,
        (id: number) => ({ contractId: id + 1, moduleContractId: id + 2 }),
        (id: number) => ({ additionalModule: { moduleContractId: String(id + 2), status: 'CANCELLED', cancelledAt: iso(7) } }),
      ],
    ])(
      "when %s is posted, then %s delivers the event with its records; a token of the other studio gets only its own studio's event",
      async (type, field, records, content, expected) => {
        const admin = connect(server.app.url, ADMIN_TOKEN);
        const partner = connect(server.app.url, partnerB);
        await Promise.all([admin.connected, partner.connected]);
        const query = `subscription { ${field} { event { type entityId studioId content } ${records} } }`;
        const all = subscribe(admin, query);
        const mine = subscribe(partner, query);
        await until(() => server.app.subscriptions.subscriptions >= 2, 5000, 'two subscriptions');
        const [fromA, fromB] = [fresh(), fresh()];
        await post(a, fromA, [type, 7, content(fromA)]);
        await post(b, fromB, [type, 7, content(fromB)]);
        const [first, second] = await all.take(2);
        expect(first!.data![field]).toEqual({
          event: { type, entityId: String(fromA), studioId: String(a.id), content: JSON.parse(JSON.stringify(content(fromA))) },
          ...expected(fromA),
        });
        expect(second!.data![field]).toMatchObject(expected(fromB));
        const [only] = await mine.take(1);
        expect(only!.data![field]).toMatchObject({ event: { entityId: String(fromB), studioId: String(b.id) }, ...expected(fromB) });
        expect(mine.results).toHaveLength(1);
      },
    );
  });
});

describe.each(databaseKinds())('contract events: hydration from the Open API stand-in (%s)', (kind) => {
  const FAST = {
    ADMIN_TOKEN,
    HYDRATION_DELAY_MS: '0',
    HYDRATION_POLL_MS: '20',
    HYDRATION_RETRY_BASE_MS: '20',
    HYDRATION_RETRY_MAX_MS: '200',
  };

  it('when a contract is paused, gets modules (one cancelled, one deleted) and is cancelled, then the contract list fills the pauses, the modules and the cancellation', async () => {
    const world = new World({ seed: 11, studios: 1, customersPerStudio: 12, days: 3 });
    const standin = await startStandin({ world });
    const server = await startTestServer(kind, FAST);
    try {
      const [s] = world.studios;
      await server.addStudio({ name: s!.name, webhookKey: s!.webhookKey, apiKey: s!.apiKey, tenantUrl: standin.baseUrl });
      const contract = world.contracts.find((c) => !c.cancelled)!;
      const from = world.deliveries.length;
      const limited = world.addIdlePeriod(contract.id, { startDate: '2026-02-01', endDate: '2026-02-14', free: true });
      const open = world.addIdlePeriod(contract.id, { startDate: '2026-03-01', endDate: null });
      const withdrawn = world.addIdlePeriod(contract.id, { startDate: '2026-04-01', endDate: '2026-04-07' });
      world.cancelIdlePeriod(contract.id, withdrawn.id);
      const sauna = world.addAdditionalModule(contract.id, 'Sauna', 9.9);
      world.updateAdditionalModule(contract.id, sauna.moduleContractId, { price: 12.5 });
      world.cancelAdditionalModule(contract.id, sauna.moduleContractId);
      const towels = world.addAdditionalModule(contract.id);
      world.deleteAdditionalModule(contract.id, towels.moduleContractId);
      world.cancelContract(contract.id);
      const cancelledAt = world.now;
      // The customer's own history first (its contract's CONTRACT_CREATED among it), then the new events.
      for (const d of [
        ...world.deliveries.filter((d) => d.body.entityId === contract.customerId).slice(0, 50),
        ...world.deliveries.slice(from),
      ]) {
        const response = await server.post(d.webhookKey, d.body);
        expect(response.status).toBe(200);
      }
      await until(
        async () => {
          const [events] = await server.sql(`SELECT MAX("seq") AS "max" FROM events WHERE "type" <> 'GYMGRAPH_RECORD_HYDRATED'`);
          const [cursor] = await server.sql(`SELECT "seq" FROM log_cursors WHERE "name" = 'hydration'`);
          const [busy] = await server.sql(`SELECT COUNT(*) AS "n" FROM hydration_jobs WHERE "state" IN ('queued', 'running', 'retrying')`);
          return Number(cursor?.seq ?? 0) >= Number(events.max ?? 0) && Number(busy.n) === 0;
        },
        20_000,
        'hydration to settle',
      );

      const response = await fetch(`${server.app.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` },
        body: JSON.stringify({
          query: `query($ids: [ID!]) { contracts(first: 1, filter: { contractIds: $ids }) { nodes { contractId cancelled cancellationDate cancelledAt
            idlePeriods(first: 10) { idlePeriodId status idlePeriodAmount usedFreeTermsInDays startDate endDate unlimited hydratedAt }
            additionalModules(first: 10) { moduleContractId status rateName contractStatus startDate endDate cancelled cancellationDate priceAmount priceCurrency hydratedAt } } } }`,
          variables: { ids: [String(contract.id)] },
        }),
      });
      const { data, errors } = (await response.json()) as { data: any; errors?: unknown };
      expect(errors).toBeUndefined();
      const [record] = data.contracts.nodes;
      // CONTRACT_CANCELLED's time, and the upstream's word on it (the day the reports count).
      expect(record).toMatchObject({
        cancelled: true,
        cancellationDate: contract.cancellationDate,
        cancelledAt: new Date(cancelledAt).toISOString(),
      });
      const pauses = Object.fromEntries(record.idlePeriods.map((p: any) => [p.idlePeriodId, p]));
      expect(pauses[String(limited.id)]).toEqual({
        idlePeriodId: String(limited.id),
        status: 'ACTIVE',
        idlePeriodAmount: 14,
        usedFreeTermsInDays: 14,
        startDate: '2026-02-01',
        endDate: '2026-02-14',
        unlimited: false,
        hydratedAt: expect.any(String),
      });
      expect(pauses[String(open.id)]).toMatchObject({
        status: 'ACTIVE',
        idlePeriodAmount: null,
        startDate: '2026-03-01',
        endDate: null,
        unlimited: true,
      });
      // A withdrawn pause is no longer listed upstream: it keeps what the events said.
      expect(pauses[String(withdrawn.id)]).toMatchObject({ status: 'CANCELLED', startDate: null, hydratedAt: null });
      const modules = Object.fromEntries(record.additionalModules.map((m: any) => [m.moduleContractId, m]));
      expect(modules[String(sauna.moduleContractId)]).toEqual({
        moduleContractId: String(sauna.moduleContractId),
        status: 'CANCELLED',
        rateName: 'Sauna',
        contractStatus: 'ACTIVE',
        startDate: sauna.startDate,
        endDate: sauna.endDate,
        cancelled: true,
        cancellationDate: sauna.cancellationDate,
        priceAmount: 12.5,
        priceCurrency: 'EUR',
        hydratedAt: expect.any(String),
      });
      expect(modules[String(towels.moduleContractId)]).toMatchObject({ status: 'DELETED', rateName: null, hydratedAt: null });
      // Hydration told subscribers through the contract's GYMGRAPH_RECORD_HYDRATED.
      const hydrated = await server.sql(`SELECT content FROM events WHERE "type" = 'GYMGRAPH_RECORD_HYDRATED' AND "entityId" = $1`, [
        contract.id,
      ]);
      const changed = hydrated.flatMap((row: any) => (JSON.parse(row.content) as { changed: string[] }).changed);
      expect(changed).toEqual(expect.arrayContaining(['cancelled', 'idlePeriods', 'additionalModules']));
    } finally {
      await server.stop();
      await standin.close();
    }
  });
});
