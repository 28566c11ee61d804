import fs from 'node:fs';
import path from 'node:path';
import { Kind, OperationTypeNode, parse, type OperationDefinitionNode } from 'graphql';
import { TokenService } from '../src/domains/access/token.service.js';
import { delivery, startTestServer, type TestServer } from './support/server.js';
import { connect, disposeClients, subscribe } from './support/ws.js';

const ADMIN_TOKEN = 'test-admin-token-0123456789';
const EXAMPLES = path.resolve(__dirname, '..', 'examples');
/** Inside the periods the examples' variables name (November 2025). */
const T0 = Date.parse('2025-11-24T16:00:00Z');
const at = (minute: number) => T0 + minute * 60_000;

const files = fs
  .readdirSync(EXAMPLES)
  .filter((name) => name.endsWith('.graphql'))
  .sort();
const pascal = (name: string) => name.replace(/\.graphql$/, '').replace(/(^|-)([a-z])/g, (_, _dash: string, c: string) => c.toUpperCase());

interface Example {
  readonly file: string;
  readonly text: string;
  readonly operation: OperationDefinitionNode;
  readonly variables: Record<string, unknown>;
}

function load(file: string): Example {
  const text = fs.readFileSync(path.join(EXAMPLES, file), 'utf8');
  const document = parse(text);
  const operations = document.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
  if (operations.length !== 1) throw new Error(`${file}: expected one operation, found ${operations.length}`);
  const json = path.join(EXAMPLES, file.replace(/\.graphql$/, '.json'));
  const variables = fs.existsSync(json) ? (JSON.parse(fs.readFileSync(json, 'utf8')) as Record<string, unknown>) : {};
  return { file, text, operation: operations[0]!, variables };
}

describe('examples/*.graphql', () => {
  let server: TestServer;
  let partnerToken: string;

  beforeAll(async () => {
    server = await startTestServer('sqlite', { ADMIN_TOKEN });
    const studio = await server.addStudio({ name: 'Example Studio Mitte', tenantUrl: 'https://acme.example/v1' });
    const other = await server.addStudio({ name: 'Example Studio Nord', tenantUrl: 'https://acme.example/v1' });
    const deliveries = [
      delivery(
        4201,
        { type: 'CUSTOMER_CREATED', timestamp: at(0) },
        { type: 'CUSTOMER_CHECKIN', timestamp: at(10) },
        { type: 'CUSTOMER_CHECKOUT', timestamp: at(75) },
        { type: 'CONTRACT_CREATED', timestamp: at(80), content: { contractId: 7001 } },
        { type: 'CONTRACT_UPDATED', timestamp: at(90), content: { contractId: 7001 } },
        { type: 'AGGREGATOR_MEMBER_CREATED', timestamp: at(95), content: { aggregatorId: 'usc-88231' } },
        { type: 'CUSTOMER_CHECKIN', timestamp: at(1440) },
      ),
      delivery(4202, { type: 'CUSTOMER_CREATED', timestamp: at(5) }, { type: 'CUSTOMER_CHECKIN', timestamp: at(20) }),
      delivery(4203, { type: 'CUSTOMER_CREATED', timestamp: at(6) }, { type: 'CUSTOMER_DELETED', timestamp: at(600) }),
      delivery(5101, { type: 'CLASS_SLOT_UPDATED', timestamp: at(30), content: { classId: 510 } }),
      delivery(6101, { type: 'CLASS_BOOKING_CREATED', timestamp: at(31) }),
      delivery(6102, { type: 'CLASS_BOOKING_CREATED', timestamp: at(32) }, { type: 'CLASS_BOOKING_CANCELLED', timestamp: at(40) }),
      delivery(6201, { type: 'APPOINTMENT_BOOKING_CREATED', timestamp: at(33) }),
      delivery(7101, { type: 'DEVICE_CREATED', timestamp: at(34) }),
      delivery(7201, { type: 'SOMETHING_NEW_UPSTREAM', timestamp: at(35), content: { detail: 'not known yet' } }),
    ];
    for (const body of deliveries) expect((await server.post(studio.webhookKey, body)).status).toBe(200);
    expect((await server.post(other.webhookKey, delivery(4201, { type: 'CUSTOMER_CHECKIN', timestamp: at(2000) }))).status).toBe(200);
    // A partner with the personalData permission, as the partners from before tokens had permissions (the customer search example needs it).
    partnerToken = (
      await new TokenService(server.app.dataSource).create({
        role: 'partner',
        studios: [studio.id],
        name: 'examples',
        permissions: ['personalData'],
      })
    ).token;
  });
  afterAll(async () => {
    await disposeClients();
    await server?.stop();
  });

  const run = async (example: Example, token: string) => {
    const response = await fetch(`${server.app.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: example.text, variables: example.variables }),
    });
    return { status: response.status, body: (await response.json()) as { data?: Record<string, unknown> | null; errors?: unknown[] } };
  };

  it('has examples', () => {
    expect(files.length).toBeGreaterThanOrEqual(5);
  });

  it.each(files)('%s opens with a comment saying what it is for, and names its operation after the file', (file) => {
    const example = load(file);
    expect(example.text).toMatch(/^# \S.{20,}\n/);
    expect(example.operation.name?.value).toBe(pascal(file));
    for (const definition of example.operation.variableDefinitions ?? []) {
      const required = definition.type.kind === Kind.NON_NULL_TYPE && !definition.defaultValue;
      if (required)
        expect({ file, variable: definition.variable.name.value, given: definition.variable.name.value in example.variables }).toEqual({
          file,
          variable: definition.variable.name.value,
          given: true,
        });
    }
  });

  it.each(files)('%s runs without errors, for the admin and for a partner token', async (file) => {
    const example = load(file);
    if (example.operation.operation === OperationTypeNode.SUBSCRIPTION) {
      // Over WebSocket: acknowledged, and no error while it listens (member-app.test.ts sees them deliver).
      for (const token of [ADMIN_TOKEN, partnerToken]) {
        const client = connect(server.app.url, token);
        await client.connected;
        const subscription = subscribe(client, example.text, example.variables);
        await new Promise((resolve) => setTimeout(resolve, 200));
        expect({ file, error: subscription.error(), errors: subscription.results.flatMap((r) => r.errors ?? []) }).toEqual({
          file,
          error: undefined,
          errors: [],
        });
        await client.dispose();
      }
      return;
    }
    for (const token of [ADMIN_TOKEN, partnerToken]) {
      const { status, body } = await run(example, token);
      expect({ file, status, errors: body.errors }).toEqual({ file, status: 200, errors: undefined });
      for (const [field, value] of Object.entries(body.data ?? {}))
        expect({ file, field, value: value === null ? null : 'answered' }).toEqual({ file, field, value: 'answered' });
    }
  });

  it('customer-by-id.graphql finds the seeded customer with its visits and contract', async () => {
    const { body } = await run(load('customer-by-id.graphql'), partnerToken);
    expect(body.data?.customer).toMatchObject({ customerId: '4201', contracts: [expect.objectContaining({ contractId: '7001' })] });
  });

  it("studio-summary.graphql counts the seeded studio's customers (the deleted one not) in its zone", async () => {
    const { body } = await run(load('studio-summary.graphql'), partnerToken);
    expect(body.data?.studioSummary).toMatchObject({
      studio: { name: 'Example Studio Mitte' },
      timeZone: 'UTC',
      customers: 2,
      visitsToday: 0,
      classesToday: [],
    });
  });

  it('visits-heatmap.graphql puts each check-in in its Berlin weekday and hour, with zeros elsewhere', async () => {
    const { body } = await run(load('visits-heatmap.graphql'), ADMIN_TOKEN);
    const buckets = body.data?.visitStats as { dayOfWeek: number; hourOfDay: number; count: number }[];
    expect(buckets).toHaveLength(7 * 24);
    // Monday 17:10 and 17:20 CET, Tuesday 17:10 CET at Mitte; Wednesday 02:20 CET at Nord.
    expect(buckets.filter((b) => b.count > 0).map((b) => [b.dayOfWeek, b.hourOfDay, b.count])).toEqual([
      [1, 17, 2],
      [2, 17, 1],
      [3, 2, 1],
    ]);
  });
});
