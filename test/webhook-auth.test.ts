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

  it("when a studio is disabled while its deliveries share a batch with another studio's (same uuids, same operator), then only the active studio's are stored", async () => {
    const tenantUrl = `https://shared-${Date.now()}.open-api.perfectgym.com/v1`;
    const disabled = await server.addStudio({ tenantUrl });
    const active = await server.addStudio({ tenantUrl });
    expect((await server.post(disabled.webhookKey, body())).status).toBe(200); // warms the key cache
    await server.sql(`UPDATE studios SET "status" = 'disabled' WHERE "id" = ${disabled.id}`);
    const before = await eventCount();
    // Sent at once, so they commit together; the disabled studio's come first and carry the uuids
    // the active studio's use, which only the active studio's may keep.
    const bodies = Array.from({ length: 10 }, (_, i) => delivery(500 + i, { type: 'CUSTOMER_CREATED', timestamp: 1_764_000_000_000 + i }));
    const answers = await Promise.all([
      ...bodies.map((b) => server.post(disabled.webhookKey, b)),
      ...bodies.map((b) => server.post(active.webhookKey, b)),
    ]);
    expect(answers.map((a) => a.status)).toEqual([...bodies.map(() => 401), ...bodies.map(() => 200)]);
    expect(answers.slice(10).map((a) => a.body.duplicates)).toEqual(bodies.map(() => 0));
    expect(await eventCount()).toBe(before + 10);
    const stored = await server.sql<{ studioId: number | string }>(
      `SELECT DISTINCT "studioId" FROM events WHERE "uuid" IN (${bodies.map((b) => `'${b.uuid}'`).join(', ')})`,
    );
    expect(stored.map((row) => Number(row.studioId))).toEqual([active.id]);
  });

  it('when the header name is in another case, then the key is still found', async () => {
    const studio = await server.addStudio();
    const response = await fetch(`${server.app.url}/webhooks`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-Api-Key': studio.webhookKey },
      body: JSON.stringify(body()),
    });
    expect(response.status).toBe(200);
  });
});
