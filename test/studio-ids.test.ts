import { TokenService } from '../src/domains/access/token.service.js';
import { delivery, startTestServer, type TestServer } from './support/server.js';
import { connect, disposeClients, subscribe, until } from './support/ws.js';

const ADMIN_TOKEN = 'test-admin-token-0123456789';
const T0 = 1_764_000_000_000;
const at = (minutes: number) => T0 + minutes * 60_000;
const STUDIO_ID = /studioIds?$/i;

interface TypeRef {
  readonly kind: string;
  readonly name: string | null;
  readonly ofType: TypeRef | null;
}
interface IntrospectedField {
  readonly name: string;
  readonly type: TypeRef;
  readonly args?: readonly IntrospectedField[];
}

const named = (type: TypeRef): string => (type.ofType ? named(type.ofType) : type.name!);

describe('studio ids in the schema', () => {
  let server: TestServer;
  let a: Awaited<ReturnType<TestServer['addStudio']>>;
  let b: Awaited<ReturnType<TestServer['addStudio']>>;
  let partnerA: string;

  const graphql = async (query: string, variables: Record<string, unknown> = {}, token = ADMIN_TOKEN) => {
    const response = await fetch(`${server.app.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query, variables }),
    });
    return (await response.json()) as { data?: any; errors?: { message: string; extensions?: Record<string, unknown> }[] };
  };

  beforeAll(async () => {
    server = await startTestServer('sqlite', { ADMIN_TOKEN });
    a = await server.addStudio({ name: 'Alpha', tenantUrl: 'https://ids.example/v1' });
    b = await server.addStudio({ name: 'Beta', tenantUrl: 'https://ids.example/v1' });
    partnerA = (await new TokenService(server.app.dataSource).create({ role: 'partner', studios: [a.id], name: 'ids' })).token;
    expect((await server.post(a.webhookKey, delivery(7, { type: 'CUSTOMER_CHECKIN', timestamp: at(1) }))).status).toBe(200);
  });
  afterAll(async () => {
    await disposeClients();
    await server?.stop();
  });

  it('when the schema is introspected, then Studio.id and every studio id field, argument and input field are ID', async () => {
    const typeRef = 'kind name ofType { kind name ofType { kind name ofType { kind name } } }';
    const { data } = await graphql(
      `{ __schema { types { name fields { name type { ${typeRef} } args { name type { ${typeRef} } } } inputFields { name type { ${typeRef} } } } } }`,
    );
    const types = data.__schema.types as { name: string; fields: IntrospectedField[] | null; inputFields: IntrospectedField[] | null }[];
    const found: Record<string, string> = {};
    for (const type of types.filter((t) => !t.name.startsWith('__'))) {
      for (const field of [...(type.fields ?? []), ...(type.inputFields ?? [])]) {
        if (STUDIO_ID.test(field.name) || (type.name === 'Studio' && field.name === 'id'))
          found[`${type.name}.${field.name}`] = named(field.type);
        for (const arg of field.args ?? [])
          if (STUDIO_ID.test(arg.name)) found[`${type.name}.${field.name}(${arg.name})`] = named(arg.type);
      }
    }
    expect(Object.keys(found).length).toBeGreaterThan(50);
    expect(Object.entries(found).filter(([, type]) => type !== 'ID')).toEqual([]);
    expect(found).toMatchObject({
      'Studio.id': 'ID',
      'Visit.studioId': 'ID',
      'Customer.lastCheckinStudioId': 'ID',
      'Subscription.occupancyChanged(studioId)': 'ID',
      'Query.occupancy(studioIds)': 'ID',
      'CustomerFilter.studioIds': 'ID',
      'Mutation.retryParkedHydrationJobs(studioId)': 'ID',
    });
  });

  it('when a record names its studio, then its studioId is the same string as the Studio.id it points at', async () => {
    const { data, errors } = await graphql(
      '{ customers(first: 1) { nodes { studioId lastCheckinStudioId visits(first: 1) { studioId studio { id } } } } }',
    );
    expect(errors).toBeUndefined();
    expect(data.customers.nodes).toEqual([
      { studioId: String(a.id), lastCheckinStudioId: String(a.id), visits: [{ studioId: String(a.id), studio: { id: String(a.id) } }] },
    ]);
  });

  it('when a studio id is written as an int literal, a string literal, or an ID variable holding either, then each is accepted alike', async () => {
    const expected = { data: { occupancy: { total: 1, studios: [{ studio: { id: String(a.id) }, checkedIn: 1 }] } } };
    expect(await graphql(`{ occupancy(studioIds: [${a.id}]) { total studios { studio { id } checkedIn } } }`)).toEqual(expected);
    expect(await graphql(`{ occupancy(studioIds: ["${a.id}"]) { total studios { studio { id } checkedIn } } }`)).toEqual(expected);
    for (const value of [a.id, String(a.id)]) {
      expect(
        await graphql('query O($ids: [ID!]) { occupancy(studioIds: $ids) { total studios { studio { id } checkedIn } } }', {
          ids: [value],
        }),
      ).toEqual(expected);
    }
    const filtered = await graphql('query C($s: ID!) { customers(filter: { studioIds: [$s] }) { totalCount } }', { s: a.id });
    expect(filtered).toEqual({ data: { customers: { totalCount: 1 } } });
  });

  it('when a client still declares the variable Int, then a validation error says where ID is expected (the breaking change)', async () => {
    const { errors } = await graphql('query O($ids: [Int!]) { occupancy(studioIds: $ids) { total } }', { ids: [a.id] });
    expect(errors).toEqual([
      expect.objectContaining({
        message: expect.stringMatching(/Variable "\$ids" of type "\[Int!\]" used in position expecting type "\[ID!\]"/),
        extensions: expect.objectContaining({ code: 'GRAPHQL_VALIDATION_FAILED' }),
      }),
    ]);
  });

  it('when a studio id is not an integer, then BAD_USER_INPUT naming the argument, for any token', async () => {
    for (const token of [ADMIN_TOKEN, partnerA]) {
      expect((await graphql('{ occupancy(studioIds: ["abc"]) { total } }', {}, token)).errors).toEqual([
        expect.objectContaining({
          message: 'studioIds: expected a studio id (an integer such as "1"), got "abc"',
          extensions: expect.objectContaining({ code: 'BAD_USER_INPUT' }),
        }),
      ]);
      expect((await graphql('{ customers(filter: { studioIds: ["1.5"] }) { totalCount } }', {}, token)).errors).toEqual([
        expect.objectContaining({
          message: expect.stringMatching(/^filter\.studioIds: expected a studio id/),
          extensions: expect.objectContaining({ code: 'BAD_USER_INPUT' }),
        }),
      ]);
    }
  });

  it('when a studio outside the token is named as a string, then FORBIDDEN as for an int', async () => {
    for (const literal of [String(b.id), `"${b.id}"`]) {
      expect((await graphql(`{ occupancy(studioIds: [${literal}]) { total } }`, {}, partnerA)).errors).toEqual([
        expect.objectContaining({
          message: `studioIds: this token may not see studio ${b.id}`,
          extensions: expect.objectContaining({ code: 'FORBIDDEN' }),
        }),
      ]);
    }
  });

  it('when occupancyChanged is subscribed with studioId: "1" or studioId: 1, then both are accepted and both receive the change', async () => {
    const client = connect(server.app.url, partnerA);
    await client.connected;
    const before = server.app.subscriptions.subscriptions;
    const asString = subscribe(client, `subscription { occupancyChanged(studioId: "${a.id}") { studioId checkedIn } }`);
    const asInt = subscribe(client, `subscription { occupancyChanged(studioId: ${a.id}) { studioId checkedIn } }`);
    await until(() => server.app.subscriptions.subscriptions >= before + 2, 5000, 'two occupancy subscriptions');
    expect((await server.post(a.webhookKey, delivery(8, { type: 'CUSTOMER_CHECKIN', timestamp: at(2) }))).status).toBe(200);
    const change = { data: { occupancyChanged: { studioId: String(a.id), checkedIn: 2 } } };
    expect(await asString.take(1)).toEqual([change]);
    expect(await asInt.take(1)).toEqual([change]);
    const refused = subscribe(client, 'subscription { occupancyChanged(studioId: "front-desk") { checkedIn } }');
    expect(await refused.take(1)).toEqual([
      {
        errors: [
          expect.objectContaining({
            message: 'studioId: expected a studio id (an integer such as "1"), got "front-desk"',
            extensions: expect.objectContaining({ code: 'BAD_USER_INPUT' }),
          }),
        ],
      },
    ]);
  });
});
