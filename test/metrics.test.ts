import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { startStandin, type Standin } from '../tools/upstream-standin/server.js';
import { World } from '../tools/upstream-standin/world.js';
import { databaseKinds } from './support/databases.js';
import { has, parsePrometheus, value, type Sample } from './support/prometheus.js';
import { delivery, startTestServer, type TestServer } from './support/server.js';
import { connect, disposeClients, subscribe, until } from './support/ws.js';

const ADMIN_TOKEN = 'test-admin-token-0123456789';
const METRICS_TOKEN = 'test-metrics-token-0123456789';

const servers: TestServer[] = [];
const standins: Standin[] = [];

afterEach(async () => {
  await disposeClients();
  for (const server of servers.splice(0).reverse()) await server.stop().catch(() => undefined);
  for (const standin of standins.splice(0)) await standin.close();
});

async function start(kind: 'sqlite' | 'postgres', env: Record<string, string> = {}): Promise<TestServer> {
  const server = await startTestServer(kind, { ADMIN_TOKEN, ...env });
  servers.push(server);
  return server;
}

async function scrape(server: TestServer, token?: string): Promise<Sample[]> {
  const response = await fetch(`${server.app.url}/metrics`, token ? { headers: { authorization: `Bearer ${token}` } } : {});
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return parsePrometheus(await response.text());
}

async function gql(server: TestServer, query: string): Promise<{ status: number; body: any }> {
  const response = await fetch(`${server.app.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` },
    body: JSON.stringify({ query }),
  });
  return { status: response.status, body: await response.json() };
}

/** Label values that would make the series unbounded: uuids, ids, keys, filled-in paths. */
function unboundedLabels(samples: readonly Sample[], forbidden: readonly string[]): string[] {
  const found: string[] = [];
  for (const { name, labels } of samples) {
    if (name.startsWith('nodejs_') || name.startsWith('process_')) continue; // prom-client's defaults (nodejs_version_info has major="20")
    for (const [label, text] of Object.entries(labels)) {
      if (label === 'le' || label === 'quantile') continue;
      // Close codes and HTTP statuses are numbers from fixed sets; any other number is an id.
      if ((label === 'code' || label === 'status') && /^\d+$/.test(text)) continue;
      const numeric = /^\d+$/.test(text);
      const filledPath = label === 'endpoint' && /\/\d/.test(text);
      if (
        numeric ||
        filledPath ||
        /[0-9a-f]{8}-[0-9a-f]{4}-/i.test(text) ||
        forbidden.some((f) => text === f || (f.length > 8 && text.includes(f)))
      )
        found.push(`${name}{${label}="${text}"}`);
    }
  }
  return found;
}

describe.each(databaseKinds())('GET /metrics (%s)', (kind) => {
  it('when webhooks, a refused webhook, queries and a subscription went through, then the counters, histograms and gauges moved, with bounded labels', async () => {
    const server = await start(kind);
    const studio = await server.addStudio();
    const client = connect(server.app.url, ADMIN_TOKEN);
    await client.connected;
    const events = subscribe(client, 'subscription { events { seq type } }');
    await until(
      async () => value(await scrape(server), 'gymgraph_subscriptions', { field: 'events' }) === 1,
      5000,
      'the subscription to count',
    );

    const created = delivery(7001, { type: 'CUSTOMER_CREATED', timestamp: Date.now() });
    expect((await server.post(studio.webhookKey, created)).status).toBe(200);
    expect((await server.post(studio.webhookKey, created)).status).toBe(200); // duplicate
    expect((await server.post(studio.webhookKey, delivery(7002, { type: 'SOMETHING_NEW_UPSTREAM', timestamp: Date.now() }))).status).toBe(
      200,
    );
    expect((await server.post(studio.webhookKey, '{"uuid": ')).status).toBe(400);
    expect((await server.post('not-a-key', delivery(7003, { type: 'CUSTOMER_CREATED', timestamp: Date.now() }))).status).toBe(401);
    await events.take(2, 5000);

    expect((await gql(server, '{ customers(first: 5) { nodes { customerId } } }')).status).toBe(200);
    expect((await gql(server, '{ noSuchField }')).status).toBe(400);

    const samples = await scrape(server);
    expect(value(samples, 'gymgraph_webhook_deliveries_total', { outcome: 'stored' })).toBe(2);
    expect(value(samples, 'gymgraph_webhook_deliveries_total', { outcome: 'duplicate' })).toBe(1);
    expect(value(samples, 'gymgraph_webhook_deliveries_total', { outcome: 'invalid_json' })).toBe(1);
    expect(value(samples, 'gymgraph_webhook_deliveries_total', { outcome: 'unauthorized' })).toBe(1);
    expect(value(samples, 'gymgraph_webhook_deliveries_total', { outcome: 'uuid_conflict' })).toBe(0);
    expect(value(samples, 'gymgraph_ingest_events_total', { type: 'CUSTOMER_CREATED' })).toBe(1);
    expect(value(samples, 'gymgraph_ingest_events_total', { type: 'unknown' })).toBe(1);
    expect(samples.some((s) => s.labels['type'] === 'SOMETHING_NEW_UPSTREAM')).toBe(false);
    expect(value(samples, 'gymgraph_webhook_ack_duration_seconds_count')).toBe(3);
    expect(value(samples, 'gymgraph_ingest_commit_duration_seconds_count')).toBeGreaterThanOrEqual(2);
    expect(value(samples, 'gymgraph_ingest_batch_deliveries_sum')).toBeGreaterThanOrEqual(3);

    expect(value(samples, 'graphql_server_request_duration_seconds_count', { graphql_operation_type: 'query' })).toBe(1);
    expect(value(samples, 'graphql_server_request_duration_seconds_count', { error_type: 'GRAPHQL_VALIDATION_FAILED' })).toBe(1);
    expect(value(samples, 'gymgraph_graphql_errors_total', { code: 'GRAPHQL_VALIDATION_FAILED' })).toBe(1);
    // The HTTP query and the subscription were both measured.
    expect(value(samples, 'gymgraph_graphql_query_cost_count')).toBe(2);

    expect(value(samples, 'gymgraph_websocket_connections')).toBe(1);
    expect(value(samples, 'gymgraph_subscriptions', { field: 'events' })).toBe(1);
    expect(value(samples, 'gymgraph_fanout_lag_seconds_count')).toBe(2);

    const [{ seq }] = await server.sql('SELECT MAX("seq") AS "seq" FROM events');
    expect(value(samples, 'gymgraph_event_log_last_seq')).toBe(Number(seq));
    expect(value(samples, 'gymgraph_webhook_deliveries_total', { outcome: 'overloaded' })).toBe(0);
    expect(samples.some((s) => s.name === 'gymgraph_webhook_deliveries_total' && s.labels['outcome'] === 'overloaded')).toBe(true);
    expect(has(samples, 'gymgraph_hydration_jobs')).toBe(true);
    expect(has(samples, 'gymgraph_hydration_cursor_lag_events')).toBe(true);
    if (kind === 'postgres') {
      expect(has(samples, 'gymgraph_db_pool_connections')).toBe(true);
      expect(value(samples, 'gymgraph_db_pool_connections', { pool: 'reads' })).toBeGreaterThan(0);
    } else {
      expect(value(samples, 'gymgraph_sqlite_read_workers')).toBe(2);
    }
    expect(has(samples, 'process_cpu_user_seconds_total')).toBe(true);
    expect(has(samples, 'nodejs_eventloop_lag_p99_seconds')).toBe(true);
    expect(unboundedLabels(samples, [studio.webhookKey, created.uuid, '7001'])).toEqual([]);

    await client.dispose();
    await until(
      async () => value(await scrape(server), 'gymgraph_websocket_closed_total', { code: '1000' }) === 1,
      5000,
      'the close to count',
    );
    const after = await scrape(server);
    expect(value(after, 'gymgraph_websocket_connections')).toBe(0);
    expect(value(after, 'gymgraph_subscriptions', { field: 'events' })).toBe(0);
  });

  it('when a hydration job ran against the Open API, then its run, its requests by endpoint template and the rate-limit wait are counted', async () => {
    const world = new World({ seed: 5, studios: 1, customersPerStudio: 2, days: 1 });
    const standin = await startStandin({ world });
    standins.push(standin);
    const server = await start(kind, { HYDRATION_DELAY_MS: '0', HYDRATION_POLL_MS: '20' });
    const [upstream] = world.studios;
    await server.addStudio({
      name: upstream!.name,
      webhookKey: upstream!.webhookKey,
      apiKey: upstream!.apiKey,
      tenantUrl: standin.baseUrl,
    });
    const customer = [...world.customers.values()][0]!;
    expect(
      (await server.post(upstream!.webhookKey, delivery(customer.id, { type: 'CUSTOMER_UPDATED', timestamp: Date.now() }))).status,
    ).toBe(200);

    await until(
      async () => value(await scrape(server), 'gymgraph_hydration_job_runs_total', { outcome: 'ok' }) >= 1,
      15_000,
      'a hydration job to run',
    );
    await until(
      async () => {
        const samples = await scrape(server);
        return value(samples, 'gymgraph_hydration_jobs') === 0 && value(samples, 'gymgraph_hydration_cursor_lag_events') === 0;
      },
      15_000,
      'hydration to settle',
    );
    const samples = await scrape(server);
    expect(
      value(samples, 'gymgraph_open_api_requests_total', { endpoint: 'GET /v1/customers/{customerId}', status: '200' }),
    ).toBeGreaterThanOrEqual(1);
    expect(value(samples, 'gymgraph_open_api_requests_total', { status: '429' })).toBe(0);
    // One wait per attempt, observed before its request goes out.
    expect(value(samples, 'gymgraph_open_api_rate_limit_wait_seconds_count')).toBeGreaterThanOrEqual(
      value(samples, 'gymgraph_open_api_requests_total'),
    );
    expect(value(samples, 'gymgraph_hydration_job_runs_total', { outcome: 'failed' })).toBe(0);
    expect(unboundedLabels(samples, [upstream!.apiKey, String(customer.id)])).toEqual([]);
  });
});

describe('GET /metrics: access and switches', () => {
  it('when METRICS_TOKEN is set, then /metrics answers 401 without it or with another token, and 200 with it', async () => {
    const server = await start('sqlite', { METRICS_TOKEN });
    const bare = await fetch(`${server.app.url}/metrics`);
    expect(bare.status).toBe(401);
    expect(bare.headers.get('www-authenticate')).toBe('Bearer');
    expect((await fetch(`${server.app.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}x` } })).status).toBe(401);
    expect((await fetch(`${server.app.url}/metrics`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).status).toBe(401);
    expect(has(await scrape(server, METRICS_TOKEN), 'gymgraph_webhook_deliveries_total')).toBe(true);
  });

  it('when METRICS_ENABLED is false, then /metrics is 404 and the app has no metrics', async () => {
    const server = await start('sqlite', { METRICS_ENABLED: 'false' });
    const studio = await server.addStudio();
    expect((await server.post(studio.webhookKey, delivery(1, { type: 'CUSTOMER_CREATED', timestamp: Date.now() }))).status).toBe(200);
    expect((await fetch(`${server.app.url}/metrics`)).status).toBe(404);
    expect(server.app.metrics).toBeUndefined();
  });

  it('when the Grafana dashboard is imported, then every metric its panels query is one /metrics declares', async () => {
    const server = await start('sqlite');
    const response = await fetch(`${server.app.url}/metrics`);
    const declared = new Set([...(await response.text()).matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]));
    const dashboard = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'docs', 'grafana-dashboard.json'), 'utf8'));
    expect(dashboard.__inputs[0]).toMatchObject({ name: 'DS_PROMETHEUS', type: 'datasource', pluginId: 'prometheus' });
    const queried = new Set<string>();
    for (const panel of dashboard.panels) {
      for (const target of panel.targets ?? []) {
        for (const [name] of String(target.expr).matchAll(/\b(?:gymgraph|graphql_server|nodejs|process)_[a-z0-9_]+/g))
          queried.add(name.replace(/_(bucket|sum|count)$/, ''));
      }
    }
    expect(queried.size).toBeGreaterThan(20);
    expect([...queried].filter((name) => !declared.has(name))).toEqual([]);
  });

  it('when two instances run in one process, then each counts only its own deliveries', async () => {
    const first = await start('sqlite');
    const second = await start('sqlite');
    const studio = await first.addStudio();
    expect(
      (await first.post(studio.webhookKey, { ...delivery(1, { type: 'CUSTOMER_CREATED', timestamp: Date.now() }), uuid: randomUUID() }))
        .status,
    ).toBe(200);
    expect(value(await scrape(first), 'gymgraph_webhook_deliveries_total', { outcome: 'stored' })).toBe(1);
    expect(value(await scrape(second), 'gymgraph_webhook_deliveries_total', { outcome: 'stored' })).toBe(0);
  });
});
