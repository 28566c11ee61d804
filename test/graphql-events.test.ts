import { TokenService } from '../src/domains/access/token.service.js';
import { databaseKinds } from './support/databases.js';
import { delivery, startTestServer, type TestServer } from './support/server.js';

const ADMIN_TOKEN = 'test-admin-token-0123456789';
const T0 = Date.parse('2026-11-24T08:00:00Z');
const at = (minutes: number) => T0 + minutes * 60_000;
const iso = (minutes: number) => new Date(at(minutes)).toISOString();

const EVENT_FIELDS = 'seq uuid position type known entityId content occurredAt receivedAt studioId studio { id name }';

interface EventNode {
  seq: string;
  uuid: string;
  position: number;
  type: string;
  known: boolean;
  entityId: string;
  content: Record<string, unknown> | null;
  occurredAt: string;
  receivedAt: string;
  studioId: string;
  studio: { id: string; name: string } | null;
}

describe.each(databaseKinds())('GraphQL event log (%s)', (kind) => {
  let server: TestServer;
  let studioA: number;
  let studioB: number;
  let partnerToken: string;
  /** Every event in commit order, as the admin reads it. */
  let all: EventNode[];
  let twoElementUuid: string;

  const graphql = async (query: string, variables: Record<string, unknown> = {}, token = ADMIN_TOKEN) => {
    const response = await fetch(`${server.app.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query, variables }),
    });
    return (await response.json()) as { data?: any; errors?: { message: string; extensions: { code: string } }[] };
  };
  const events = async (args: string, variables: Record<string, unknown> = {}, token = ADMIN_TOKEN, declarations = '') => {
    const result = await graphql(
      `query Events${declarations} { events${args} { nodes { ${EVENT_FIELDS} } edges { cursor node { seq } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } totalCount } }`,
      variables,
      token,
    );
    expect(result.errors).toBeUndefined();
    return result.data.events as {
      nodes: EventNode[];
      edges: { cursor: string; node: { seq: string } }[];
      pageInfo: Record<string, any>;
      totalCount: number;
    };
  };
  const seqs = (nodes: { seq: string }[]) => nodes.map((n) => n.seq);

  beforeAll(async () => {
    server = await startTestServer(kind, { ADMIN_TOKEN });
    const a = await server.addStudio({ name: 'Alpha' });
    const b = await server.addStudio({ name: 'Beta' });
    studioA = a.id;
    studioB = b.id;
    const post = async (key: string, body: ReturnType<typeof delivery>) => expect((await server.post(key, body)).status).toBe(200);
    // Committed one after another, so seq follows this order.
    await post(a.webhookKey, delivery(1, { type: 'CUSTOMER_CREATED', timestamp: at(0) }));
    await post(b.webhookKey, delivery(2, { type: 'CUSTOMER_CHECKIN', timestamp: at(10) }));
    const two = delivery(
      1,
      { type: 'CUSTOMER_CHECKIN', timestamp: at(20) },
      { type: 'CONTRACT_CREATED', timestamp: at(21), content: { contractId: 77 } },
    );
    twoElementUuid = two.uuid;
    await post(a.webhookKey, two);
    await post(a.webhookKey, delivery(3, { type: 'SOMETHING_NEW_UPSTREAM', timestamp: at(30), content: { colour: 'blue', size: 3 } }));
    await post(b.webhookKey, delivery(2, { type: 'CUSTOMER_CHECKOUT', timestamp: at(40) }));
    await post(a.webhookKey, delivery(1, { type: 'CUSTOMER_CHECKOUT', timestamp: at(50) }));
    partnerToken = (await new TokenService(server.app.dataSource).create({ role: 'partner', studios: [studioA] })).token;
    all = (await events('(first: 100)')).nodes;
  });
  afterAll(() => server.stop());

  it('when listed without arguments, then every event in commit order with all its fields', async () => {
    const page = await events('');
    expect(page.totalCount).toBe(7);
    expect(page.nodes.map((e) => [e.type, e.entityId, e.studioId])).toEqual([
      ['CUSTOMER_CREATED', '1', String(studioA)],
      ['CUSTOMER_CHECKIN', '2', String(studioB)],
      ['CUSTOMER_CHECKIN', '1', String(studioA)],
      ['CONTRACT_CREATED', '1', String(studioA)],
      ['SOMETHING_NEW_UPSTREAM', '3', String(studioA)],
      ['CUSTOMER_CHECKOUT', '2', String(studioB)],
      ['CUSTOMER_CHECKOUT', '1', String(studioA)],
    ]);
    const numbers = page.nodes.map((e) => Number(e.seq));
    expect(numbers).toEqual([...numbers].sort((x, y) => x - y));
    expect(new Set(numbers).size).toBe(7);

    const [, , checkin, contract, unknown] = page.nodes;
    expect(checkin).toEqual({
      seq: expect.any(String),
      uuid: twoElementUuid,
      position: 0,
      type: 'CUSTOMER_CHECKIN',
      known: true,
      entityId: '1',
      content: null,
      occurredAt: iso(20),
      receivedAt: expect.any(String),
      studioId: String(studioA),
      studio: { id: String(studioA), name: 'Alpha' },
    });
    expect(contract).toMatchObject({ uuid: twoElementUuid, position: 1, content: { contractId: 77 }, occurredAt: iso(21) });
    expect(unknown).toMatchObject({ type: 'SOMETHING_NEW_UPSTREAM', known: false, content: { colour: 'blue', size: 3 } });
    expect(Date.parse(checkin!.receivedAt)).toBeGreaterThan(Date.now() - 600_000);
  });

  it('when paged forward with first/after, then the pages join up without gaps or repeats', async () => {
    const first = await events('(first: 3)');
    expect(seqs(first.nodes)).toEqual(seqs(all.slice(0, 3)));
    expect(first.pageInfo).toMatchObject({
      hasNextPage: true,
      hasPreviousPage: false,
      startCursor: first.edges[0]!.cursor,
      endCursor: first.edges[2]!.cursor,
    });
    const second = await events('(first: 3, after: $after)', { after: first.pageInfo.endCursor }, ADMIN_TOKEN, '($after: String)');
    expect(seqs(second.nodes)).toEqual(seqs(all.slice(3, 6)));
    expect(second.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: true });
    const third = await events('(first: 3, after: $after)', { after: second.pageInfo.endCursor }, ADMIN_TOKEN, '($after: String)');
    expect(seqs(third.nodes)).toEqual(seqs(all.slice(6)));
    expect(third.pageInfo.hasNextPage).toBe(false);
  });

  it('when paged backward with last/before, then the pages come in ascending order, ending at the cursor', async () => {
    const tail = await events('(last: 2)');
    expect(seqs(tail.nodes)).toEqual(seqs(all.slice(5)));
    expect(tail.pageInfo).toMatchObject({ hasPreviousPage: true, hasNextPage: false });
    const before = await events('(last: 2, before: $before)', { before: tail.pageInfo.startCursor }, ADMIN_TOKEN, '($before: String)');
    expect(seqs(before.nodes)).toEqual(seqs(all.slice(3, 5)));
    expect(before.pageInfo).toMatchObject({ hasPreviousPage: true, hasNextPage: true });
  });

  it('when direction is DESC, then newest first, and paging continues downward', async () => {
    const page = await events('(first: 4, direction: DESC)');
    expect(seqs(page.nodes)).toEqual(seqs([...all].reverse().slice(0, 4)));
    const next = await events(
      '(first: 4, direction: DESC, after: $after)',
      { after: page.pageInfo.endCursor },
      ADMIN_TOKEN,
      '($after: String)',
    );
    expect(seqs(next.nodes)).toEqual(seqs([...all].reverse().slice(4)));
    expect(next.pageInfo.hasNextPage).toBe(false);
  });

  it('when filtered, then only events meeting every condition, with a matching totalCount', async () => {
    const byFilter = async (filter: Record<string, unknown>) => {
      const page = await events('(first: 100, filter: $filter)', { filter }, ADMIN_TOKEN, '($filter: EventFilter)');
      expect(page.totalCount).toBe(page.nodes.length);
      return page.nodes.map((e) => e.type + ':' + e.entityId);
    };
    expect(await byFilter({ types: ['CUSTOMER_CHECKIN', 'CUSTOMER_CHECKOUT'] })).toEqual([
      'CUSTOMER_CHECKIN:2',
      'CUSTOMER_CHECKIN:1',
      'CUSTOMER_CHECKOUT:2',
      'CUSTOMER_CHECKOUT:1',
    ]);
    expect(await byFilter({ studioIds: [studioB] })).toEqual(['CUSTOMER_CHECKIN:2', 'CUSTOMER_CHECKOUT:2']);
    expect(await byFilter({ entityIds: ['1'], types: ['CUSTOMER_CHECKOUT', 'CUSTOMER_CREATED'] })).toEqual([
      'CUSTOMER_CREATED:1',
      'CUSTOMER_CHECKOUT:1',
    ]);
    expect(await byFilter({ occurredAt: { from: iso(20), to: iso(40) } })).toEqual([
      'CUSTOMER_CHECKIN:1',
      'CONTRACT_CREATED:1',
      'SOMETHING_NEW_UPSTREAM:3',
    ]);
    expect(await byFilter({ known: false })).toEqual(['SOMETHING_NEW_UPSTREAM:3']);
    expect(await byFilter({ known: true, studioIds: [studioA] })).toHaveLength(4);
    expect(await byFilter({ receivedAt: { from: new Date(Date.now() - 3_600_000).toISOString() } })).toHaveLength(7);
    expect(await byFilter({ receivedAt: { to: '2020-01-01T00:00:00Z' } })).toEqual([]);
    expect(await byFilter({ types: [] })).toEqual([]);
  });

  it('when one event is asked for by seq, then it is returned; an unknown or malformed seq gives null', async () => {
    const target = all[3]!;
    const query = `query One($seq: ID!) { event(seq: $seq) { ${EVENT_FIELDS} } }`;
    expect((await graphql(query, { seq: target.seq })).data.event).toEqual(target);
    expect((await graphql(query, { seq: '999999' })).data.event).toBeNull();
    expect((await graphql(query, { seq: 'abc' })).data.event).toBeNull();
  });

  it("when a partner token for one studio reads the log, then only that studio's events, in the SQL count too", async () => {
    const page = await events('(first: 100)', {}, partnerToken);
    expect(page.totalCount).toBe(5);
    expect(page.nodes.every((e) => e.studioId === String(studioA) && e.studio?.id === String(studioA))).toBe(true);
    // Asking for the other studio is refused, the same as everywhere else (not an empty page).
    const refused = await graphql(
      'query Events($b: ID!) { events(filter: { studioIds: [$b] }) { totalCount } }',
      { b: studioB },
      partnerToken,
    );
    expect(refused.errors).toEqual([
      expect.objectContaining({ message: `filter.studioIds: this token may not see studio ${studioB}`, extensions: { code: 'FORBIDDEN' } }),
    ]);
    const other = all.find((e) => e.studioId === String(studioB))!;
    expect((await graphql('query One($seq: ID!) { event(seq: $seq) { seq } }', { seq: other.seq }, partnerToken)).data.event).toBeNull();
  });

  it('when a cursor is not one this list produced, or first is too large, then BAD_USER_INPUT', async () => {
    const bad = await graphql('{ events(after: "not-a-cursor") { totalCount } }');
    expect(bad.errors?.[0]?.extensions.code).toBe('BAD_USER_INPUT');
    const big = await graphql('{ events(first: 1000) { totalCount } }');
    expect(big.errors?.[0]?.extensions.code).toBe('BAD_USER_INPUT');
  });
});
