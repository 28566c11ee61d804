import { databaseKinds } from './support/databases.js';
import { delivery, startTestServer, type TestServer } from './support/server.js';

describe.each(databaseKinds())('POST /webhooks authentication (%s)', (kind) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(kind);
  });
  afterAll(() => server.stop());

  const body = () => delivery(1, { type: 'CUSTOMER_CREATED', timestamp: 1_764_000_000_000 });
  const eventCount = async () => Number((await server.sql('SELECT COUNT(*) AS n FROM events'))[0].n);

  it('when the X-API-KEY header is missing, then 401 and nothing is stored', async () => {
    const before = await eventCount();
    const response = await server.post(undefined, body());
    expect(response.status).toBe(401);
    expect(response.body).toEqual({ error: 'unauthorized', message: 'missing X-API-KEY header' });
    expect(await eventCount()).toBe(before);
  });

  it('when the key is unknown, then 401 and nothing is stored', async () => {
    const before = await eventCount();
    const response = await server.post('no-such-key-anywhere-0000', body());
    expect(response.status).toBe(401);
    expect(response.body.message).toBe('unknown webhook key');
    expect(await eventCount()).toBe(before);
  });

  it('when the studio is disabled, then 401 at once and nothing is stored; enabled again, then 200', async () => {
    const studio = await server.addStudio();
    expect((await server.post(studio.webhookKey, body())).status).toBe(200); // warms the key cache
    await server.sql(`UPDATE studios SET "status" = 'disabled' WHERE "id" = $1`, [studio.id]);
    const before = await eventCount();
    const refused = await server.post(studio.webhookKey, body());
    expect(refused.status).toBe(401);
    expect(refused.body.message).toMatch(/disabled/);
    expect(await eventCount()).toBe(before);

    await server.sql(`UPDATE studios SET "status" = 'active' WHERE "id" = $1`, [studio.id]);
    expect((await server.post(studio.webhookKey, body())).status).toBe(200);
  });

  it('when the header name is in another case, then the key is still found', async () => {
    const studio = await server.addStudio();
    const response = await fetch(`${server.app.url}/webhooks`, {
      method: 'POST', headers: { 'Content-Type': 'application/json', 'X-Api-Key': studio.webhookKey }, body: JSON.stringify(body()),
    });
    expect(response.status).toBe(200);
  });
});
