import http from 'node:http';
import { randomUUID } from 'node:crypto';
import { TABLES as ALL_TABLES, type TableName } from '../src/db/tables.js';
import { databaseKinds } from './support/databases.js';
import { delivery, startTestServer, type TestServer } from './support/server.js';

/**
 * Every table a delivery can write to: all of ours (src/db/tables.ts), so a new record table is
 * checked too, except the hydration's own bookkeeping, which its scanner writes in the background
 * after earlier deliveries' commits.
 */
const TABLES = Object.values(ALL_TABLES).filter((table) => table !== 'hydration_jobs' && table !== 'log_cursors');

const LIMIT = 1_048_576;
const T0 = 1_764_000_000_000;

interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: any;
}

/**
 * A request through node:http, for what `fetch` cannot send: no Content-Type at all, or a body
 * streamed without Content-Length. Resolves with the answer even if the server closes the
 * connection before it has read the whole body (as it does on 413).
 */
function rawRequest(
  url: string,
  options: { method?: string; path?: string; headers?: Record<string, string>; body?: string; chunked?: boolean },
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    let answered = false;
    const req = http.request(
      `${url}${options.path ?? '/webhooks'}`,
      { method: options.method ?? 'POST', headers: options.headers ?? {} },
      (res) => {
        answered = true;
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let body: unknown = text;
          try {
            body = JSON.parse(text);
          } catch {
            /* not JSON: keep the text */
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body });
        });
        res.on('error', reject);
      },
    );
    req.on('error', (error) => {
      if (!answered) reject(error);
    });
    if (options.body === undefined) {
      req.end();
    } else if (options.chunked) {
      // Several writes without a Content-Length: the body arrives chunked.
      const piece = 64 * 1024;
      for (let at = 0; at < options.body.length; at += piece) req.write(options.body.slice(at, at + piece));
      req.end();
    } else {
      req.setHeader('content-length', Buffer.byteLength(options.body));
      req.end(options.body);
    }
  });
}

/** A valid CUSTOMER_CREATED delivery padded with an ignored property to exactly `bytes` bytes of JSON. */
function paddedBody(bytes: number): string {
  const base = JSON.stringify({ ...delivery(42, { type: 'CUSTOMER_CREATED', timestamp: T0 }), padding: '' });
  const body = `${base.slice(0, -2)}${'x'.repeat(bytes - base.length)}"}`;
  expect(Buffer.byteLength(body)).toBe(bytes);
  return body;
}

describe.each(databaseKinds())('POST /webhooks input validation (%s)', (kind) => {
  let server: TestServer;
  let key: string;
  beforeAll(async () => {
    server = await startTestServer(kind);
    key = (await server.addStudio()).webhookKey;
  });
  afterAll(() => server.stop());

  /** Row count of every table a delivery can touch. */
  const counts = async (): Promise<Record<TableName, number>> => {
    const [row] = await server.sql(`SELECT ${TABLES.map((t) => `(SELECT COUNT(*) FROM ${t}) AS "${t}"`).join(', ')}`);
    return Object.fromEntries(TABLES.map((t) => [t, Number(row[t])])) as Record<TableName, number>;
  };

  /** Runs `send` and asserts that it changed no table. */
  const storesNothing = async <T>(send: () => Promise<T>): Promise<T> => {
    const before = await counts();
    const result = await send();
    expect(await counts()).toEqual(before);
    return result;
  };

  /** Posts `body` and expects 400 invalid_payload naming `field`; returns the problems. */
  const expectInvalid = async (body: unknown, field: string, message?: RegExp) => {
    const response = await storesNothing(() => server.post(key, body));
    expect(response.status).toBe(400);
    expect(response.body.error).toBe('invalid_payload');
    expect(response.body.message).toEqual(expect.stringContaining(field));
    const problems = response.body.problems as { field: string; message: string }[];
    expect(problems).toEqual(expect.arrayContaining([{ field, message: expect.any(String) }]));
    if (message) expect(problems.find((p) => p.field === field)!.message).toMatch(message);
    return problems;
  };

  const element = (overrides: Record<string, unknown> = {}) => ({ type: 'CUSTOMER_CREATED', timestamp: T0, ...overrides });
  const body = (overrides: Record<string, unknown> = {}) => ({ entityId: 7, uuid: randomUUID(), payload: [element()], ...overrides });

  describe('media type', () => {
    it.each(['text/plain', 'application/x-www-form-urlencoded', 'application/jsonp'])(
      'when the Content-Type is %s, then 415 naming it and nothing is stored',
      async (type) => {
        const response = await storesNothing(() => server.post(key, body(), { 'content-type': type }));
        expect(response.status).toBe(415);
        expect(response.body).toEqual({ error: 'unsupported_media_type', message: expect.stringContaining(type) });
      },
    );

    it('when the Content-Type header is missing, then 415 and nothing is stored', async () => {
      const response = await storesNothing(() =>
        rawRequest(server.app.url, { headers: { 'x-api-key': key }, body: JSON.stringify(body()) }),
      );
      expect(response.status).toBe(415);
      expect(response.body).toEqual({ error: 'unsupported_media_type', message: expect.stringContaining('application/json') });
    });

    it('when the Content-Type is "application/json; charset=utf-8", then 200 and the event is stored', async () => {
      const before = await counts();
      const response = await server.post(key, body(), { 'content-type': 'application/json; charset=utf-8' });
      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({ status: 'ok', stored: 1, duplicates: 0 });
      expect((await counts()).events).toBe(before.events + 1);
    });

    it.each(['APPLICATION/JSON', 'application/vnd.perfectgym+json'])(
      'when the Content-Type is %s, then it is accepted as JSON',
      async (type) => {
        const response = await server.post(key, body(), { 'content-type': type });
        expect(response.status).toBe(200);
      },
    );
  });

  describe('body size', () => {
    it('when the body is one byte over 1 MB, then 413 and nothing is stored', async () => {
      const response = await storesNothing(() =>
        rawRequest(server.app.url, { headers: { 'x-api-key': key, 'content-type': 'application/json' }, body: paddedBody(LIMIT + 1) }),
      );
      expect(response.status).toBe(413);
      expect(response.body).toEqual({ error: 'payload_too_large', message: expect.stringContaining(String(LIMIT)) });
    });

    it('when an over-1 MB body is streamed without Content-Length, then 413 and nothing is stored', async () => {
      const response = await storesNothing(() =>
        rawRequest(server.app.url, {
          headers: { 'x-api-key': key, 'content-type': 'application/json' },
          body: paddedBody(2 * LIMIT),
          chunked: true,
        }),
      );
      expect(response.status).toBe(413);
      expect(response.body.error).toBe('payload_too_large');
    });

    it('when the body is exactly 1 MB, then 200 and the event is stored', async () => {
      const before = await counts();
      const response = await server.post(key, paddedBody(LIMIT));
      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({ stored: 1 });
      expect((await counts()).events).toBe(before.events + 1);
    });

    it('when the body is just under 1 MB, then 200', async () => {
      const response = await server.post(key, paddedBody(LIMIT - 1));
      expect(response.status).toBe(200);
    });
  });

  describe('JSON syntax', () => {
    it.each([
      ['garbage', 'this is not json'],
      ['a truncated object', '{"entityId": 1, "uuid": '],
      ['an empty body', ''],
    ])('when the body is %s, then 400 invalid_json and nothing is stored', async (_, text) => {
      const response = await storesNothing(() => server.post(key, text));
      expect(response.status).toBe(400);
      expect(response.body).toEqual({ error: 'invalid_json', message: expect.stringMatching(/not valid JSON/) });
    });
  });

  describe('documented shape', () => {
    it('when the body is an array, then 400 invalid_payload for (body)', async () => {
      await expectInvalid([body()], '(body)', /JSON object.*array/);
    });

    it('when the body is a JSON string, then 400 invalid_payload for (body)', async () => {
      await expectInvalid(JSON.stringify('hello'), '(body)', /JSON object/);
    });

    it('when the body is an empty object, then every missing field is reported', async () => {
      const problems = await expectInvalid({}, 'uuid', /nothing/);
      expect(problems.map((p) => p.field)).toEqual(['uuid', 'entityId', 'payload']);
    });

    it.each([
      ['missing', undefined],
      ['not a UUID', 'not-a-uuid'],
      ['a number', 12345],
      ['a UUID with a trailing character', `${randomUUID()}x`],
    ])('when uuid is %s, then 400 naming uuid', async (_, uuid) => {
      await expectInvalid(body({ uuid }), 'uuid', /UUID/);
    });

    it.each([
      ['missing', undefined],
      ['negative', -1],
      ['a float', 1.5],
      ['a string of non-digits', '12a'],
      ['a negative digit string', '-12'],
      ['beyond 2^53 - 1', 2 ** 53],
      ['a digit string beyond 2^53 - 1', '9007199254740993'],
      ['null', null],
    ])('when entityId is %s, then 400 naming entityId', async (_, entityId) => {
      await expectInvalid(body({ entityId }), 'entityId', /non-negative integer/);
    });

    it.each([
      ['missing', undefined, /array/],
      ['an object', { type: 'CUSTOMER_CREATED', timestamp: T0 }, /array/],
      ['a string', 'CUSTOMER_CREATED', /array/],
      ['empty', [], /at least one/],
    ])('when payload is %s, then 400 naming payload', async (_, payload, message) => {
      await expectInvalid(body({ payload }), 'payload', message);
    });

    it('when payload has more than 1000 elements, then 400 naming payload', async () => {
      await expectInvalid(body({ payload: Array.from({ length: 1001 }, () => element()) }), 'payload', /at most 1000/);
    });

    it('when payload has exactly 1000 elements, then all are stored', async () => {
      const before = await counts();
      const response = await server.post(
        key,
        body({ payload: Array.from({ length: 1000 }, (_, i) => element({ type: 'CUSTOMER_UPDATED', timestamp: T0 + i })) }),
      );
      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({ stored: 1000, duplicates: 0 });
      expect((await counts()).events).toBe(before.events + 1000);
    });

    it.each([
      ['a string', 'CUSTOMER_CREATED'],
      ['null', null],
      ['an array', [element()]],
      ['a number', 3],
    ])('when a payload element is %s, then 400 naming payload[1]', async (_, item) => {
      await expectInvalid(body({ payload: [element(), item] }), 'payload[1]', /expected an object/);
    });

    it.each([
      ['missing', undefined],
      ['empty', ''],
      ['a number', 42],
      ['longer than 100 characters', 'X'.repeat(101)],
    ])('when type is %s, then 400 naming payload[0].type', async (_, type) => {
      await expectInvalid(body({ payload: [element({ type })] }), 'payload[0].type', /non-empty string of at most 100/);
    });

    it('when type is exactly 100 characters, then it is accepted as an unknown type', async () => {
      const response = await server.post(key, body({ payload: [element({ type: 'X'.repeat(100) })] }));
      expect(response.status).toBe(200);
    });

    it.each([
      ['missing', undefined],
      ['a string', String(T0)],
      ['negative', -1],
      ['a float', T0 + 0.5],
      ['null', null],
    ])('when timestamp is %s, then 400 naming payload[1].timestamp', async (_, timestamp) => {
      await expectInvalid(body({ payload: [element(), element({ timestamp })] }), 'payload[1].timestamp', /milliseconds since the epoch/);
    });

    it.each([
      ['an array', [1, 2]],
      ['a string', 'contract 5'],
      ['a number', 5],
    ])('when content is %s, then 400 naming payload[0].content', async (_, content) => {
      await expectInvalid(body({ payload: [element({ content })] }), 'payload[0].content', /object or null/);
    });

    it.each([
      ['CONTRACT_CREATED', 'contractId', undefined],
      ['CONTRACT_CREATED', 'contractId', { contractId: 'abc' }],
      ['CONTRACT_CREATED', 'contractId', { contractId: -3 }],
      ['CONTRACT_UPDATED', 'contractId', {}],
      ['CONTRACT_UPDATED', 'contractId', null],
      ['CLASS_SLOT_UPDATED', 'classId', { otherId: 1 }],
      ['CLASS_SLOT_CANCELLED', 'classId', undefined],
      ['CLASS_SLOT_CANCELLED', 'classId', { classId: 1.5 }],
      ['AGGREGATOR_MEMBER_CREATED', 'aggregatorId', undefined],
      ['AGGREGATOR_MEMBER_CREATED', 'aggregatorId', { aggregatorId: '' }],
      ['AGGREGATOR_MEMBER_CREATED', 'aggregatorId', { aggregatorId: { id: 1 } }],
    ])('when %s has no valid content.%s (content %j), then 400 naming it', async (type, field, content) => {
      const problems = await expectInvalid(
        body({ payload: [element({ type, content })] }),
        `payload[0].content.${field}`,
        new RegExp(type),
      );
      expect(problems).toHaveLength(1);
    });

    it('when several fields are wrong, then each is reported with its path', async () => {
      const problems = await expectInvalid(
        { entityId: 'x', uuid: randomUUID(), payload: [element({ type: '' }), element({ timestamp: 'soon', content: [] })] },
        'entityId',
      );
      expect(problems.map((p) => p.field)).toEqual(['entityId', 'payload[0].type', 'payload[1].timestamp', 'payload[1].content']);
    });
  });

  describe('what can never be stored is refused before it is queued', () => {
    /** `{a: {a: ... {a: 1}}}`, `levels` objects deep, as JSON text (JSON.stringify of it would overflow first). */
    const nested = (levels: number) => `${'{"a":'.repeat(levels - 1)}{"a":1}${'}'.repeat(levels - 1)}`;
    const rawBody = (contentJson: string) =>
      `{"entityId":7,"uuid":"${randomUUID()}","payload":[{"type":"CUSTOMER_UPDATED","timestamp":${T0},"content":${contentJson}}]}`;

    it('when content is nested 5,000 deep, then 400 naming the level past the limit, never 500, and nothing is stored', async () => {
      const path = `payload[0].content${'.a'.repeat(32)}`;
      await expectInvalid(rawBody(nested(5000)), path, /at most 32 levels/);
    });

    it('when content is nested exactly 32 deep, then 200', async () => {
      const response = await server.post(key, rawBody(nested(32)));
      expect(response.status).toBe(200);
    });

    it('when content is larger than 65,536 characters of JSON, then 400 naming payload[0].content', async () => {
      await expectInvalid(
        body({ payload: [element({ content: { note: 'x'.repeat(70_000) } })] }),
        'payload[0].content',
        /at most 65536 characters/,
      );
    });

    it.each([
      ['9000000000000000 (past the last date JavaScript can represent)', 9_000_000_000_000_000],
      ['before 2000', Date.UTC(1999, 11, 31, 23, 59, 59, 999)],
      ['two days ahead', Date.now() + 2 * 24 * 3600 * 1000],
      ['zero', 0],
    ])('when timestamp is %s, then 400 naming payload[0].timestamp', async (_, timestamp) => {
      await expectInvalid(
        body({ payload: [element({ timestamp })] }),
        'payload[0].timestamp',
        /from 2000-01-01T00:00:00.000Z to one day ahead/,
      );
    });

    it.each([
      ['2000-01-01T00:00:00Z exactly', Date.UTC(2000, 0, 1)],
      ['in 2001 (a late re-send)', Date.UTC(2001, 4, 17, 8, 30)],
      ['an hour ahead (clock skew)', Date.now() + 3600 * 1000],
    ])('when timestamp is %s, then 200 and it is stored', async (_, timestamp) => {
      const payload = body({ payload: [element({ timestamp })] });
      const response = await server.post(key, payload);
      expect(response.status).toBe(200);
      const [row] = await server.sql(`SELECT "occurredAt" FROM events WHERE "uuid" = $1`, [payload.uuid]);
      expect(Number(row.occurredAt)).toBe(timestamp);
    });

    it.each([
      ['a NUL in type', { payload: [element({ type: 'CUSTOMER_\u0000CREATED' })] }, 'payload[0].type', /NUL/],
      ['a NUL in a content value', { payload: [element({ content: { note: 'a\u0000b' } })] }, 'payload[0].content.note', /NUL/],
      [
        'a NUL in a content key',
        { payload: [element({ content: { 'no\u0000te': 1 } })] },
        'payload[0].content.no\u0000te',
        /a key that contains a NUL/,
      ],
      [
        'a NUL deep in content',
        { payload: [element({ content: { a: [{ b: ['ok', 'x\u0000'] }] } })] },
        'payload[0].content.a[0].b[1]',
        /NUL/,
      ],
      [
        'a NUL in a string id',
        { payload: [element({ type: 'AGGREGATOR_MEMBER_CREATED', content: { aggregatorId: 'agg\u00001' } })] },
        'payload[0].content.aggregatorId',
        /NUL/,
      ],
      ['a lone high surrogate in type', { payload: [element({ type: 'X\ud800' })] }, 'payload[0].type', /unpaired UTF-16 surrogate/],
      ['a lone low surrogate in content', { payload: [element({ content: { note: '\udc00x' } })] }, 'payload[0].content.note', /unpaired/],
      [
        'an integer beyond 2^53 - 1 in content',
        { payload: [element({ content: { big: 2 ** 53 } })] },
        'payload[0].content.big',
        /within \+-9007199254740991/,
      ],
      [
        'a negative integer beyond -(2^53 - 1) nested',
        { payload: [element({ content: { list: [1, -(2 ** 60)] } })] },
        'payload[0].content.list[1]',
        /rounded/,
      ],
    ])(
      'when the body carries %s, then 400 naming the field and nothing is stored (one rule on both databases)',
      async (_, overrides, field, message) => {
        const problems = await expectInvalid(body(overrides), field, message);
        expect(problems).toHaveLength(1);
      },
    );

    it('when content carries 1e400 (Infinity once parsed), then 400 naming it', async () => {
      await expectInvalid(rawBody('{"x":1e400}'), 'payload[0].content.x', /finite number/);
    });

    it('when content carries emoji (paired surrogates), fractions and safe integers, then 200 and stored exactly', async () => {
      const content = {
        note: 'ok \ud83d\udcaa',
        ratio: 0.1,
        max: Number.MAX_SAFE_INTEGER,
        min: -Number.MAX_SAFE_INTEGER,
        deep: [{ e: '\u00e9' }],
      };
      const payload = body({ payload: [element({ content })] });
      const response = await server.post(key, payload);
      expect(response.status).toBe(200);
      const [row] = await server.sql(`SELECT "content" FROM events WHERE "uuid" = $1`, [payload.uuid]);
      expect(JSON.parse(row.content)).toEqual(content);
    });

    it('when one poison delivery arrives inside a concurrent burst of good ones, then every good one is 200 and stored', async () => {
      const good = Array.from({ length: 40 }, (_, i) => body({ entityId: 10_000 + i }));
      const poison = [
        rawBody(nested(5000)),
        body({ payload: [element({ type: 'BAD\u0000' })] }),
        body({ payload: [element({ timestamp: 9_000_000_000_000_000 })] }),
      ];
      const answers = await Promise.all([...good.slice(0, 20), ...poison, ...good.slice(20)].map((b) => server.post(key, b)));
      expect(answers.map((a) => a.status).sort()).toEqual([...Array(40).fill(200), 400, 400, 400]);
      const rows = await server.sql(
        `SELECT COUNT(*) AS n FROM events WHERE "uuid" IN (${good.map((_, i) => `$${i + 1}`).join(', ')})`,
        good.map((g) => g.uuid),
      );
      expect(Number(rows[0].n)).toBe(40);
    });
  });

  describe('atomicity', () => {
    it('when one element among good ones is bad, then 400 and none of the delivery is stored', async () => {
      const response = await storesNothing(() =>
        server.post(key, {
          entityId: 900,
          uuid: randomUUID(),
          payload: [
            { type: 'CUSTOMER_CREATED', timestamp: T0 },
            { type: 'CUSTOMER_CHECKIN', timestamp: T0 + 1 },
            { type: 'CONTRACT_CREATED', timestamp: T0 + 2, content: {} },
            { type: 'CUSTOMER_CHECKOUT', timestamp: T0 + 3 },
          ],
        }),
      );
      expect(response.status).toBe(400);
      expect(response.body.problems).toEqual([{ field: 'payload[2].content.contractId', message: expect.any(String) }]);
    });
  });

  describe('lenience', () => {
    it('when the body and its elements carry unknown properties, then they are ignored and 200', async () => {
      const before = await counts();
      const response = await server.post(key, {
        entityId: 501,
        uuid: randomUUID(),
        studio: 'ignored',
        version: 2,
        nested: { deep: [1, 2] },
        payload: [{ type: 'CUSTOMER_CREATED', timestamp: T0, source: 'app', extra: { a: 1 } }],
      });
      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({ status: 'ok', stored: 1, duplicates: 0 });
      const after = await counts();
      expect(after.events).toBe(before.events + 1);
      expect(after.customers).toBe(before.customers + 1);
    });

    it.each([
      ['absent', {}],
      ['null', { content: null }],
      ['{}', { content: {} }],
    ])('when content is %s, then 200 and the event is stored with null content', async (_, extra) => {
      const uuid = randomUUID();
      const response = await server.post(key, { entityId: 502, uuid, payload: [{ type: 'CUSTOMER_UPDATED', timestamp: T0, ...extra }] });
      expect(response.status).toBe(200);
      const rows = await server.sql(`SELECT "content" FROM events WHERE "uuid" = $1`, [uuid]);
      expect(rows).toEqual([{ content: null }]);
    });

    it('when content carries ids, then they are stored as received', async () => {
      const uuid = randomUUID();
      const content = { contractId: 77, note: 'kept' };
      const response = await server.post(key, { entityId: 503, uuid, payload: [{ type: 'CONTRACT_UPDATED', timestamp: T0, content }] });
      expect(response.status).toBe(200);
      const [row] = await server.sql(`SELECT "content" FROM events WHERE "uuid" = $1`, [uuid]);
      expect(JSON.parse(row.content)).toEqual(content);
    });

    it('when entityId is a string of digits, then it is accepted as that number', async () => {
      const uuid = randomUUID();
      const response = await server.post(key, { entityId: '123456789012', uuid, payload: [element()] });
      expect(response.status).toBe(200);
      const [row] = await server.sql(`SELECT "entityId" FROM events WHERE "uuid" = $1`, [uuid]);
      expect(Number(row.entityId)).toBe(123_456_789_012);
      const customers = await server.sql(`SELECT "customerId" FROM customers WHERE "customerId" = $1`, [123_456_789_012]);
      expect(customers).toHaveLength(1);
    });

    it('when entityId is exactly 2^53 - 1, then it is accepted and stored exactly', async () => {
      const uuid = randomUUID();
      const response = await server.post(key, { entityId: Number.MAX_SAFE_INTEGER, uuid, payload: [element()] });
      expect(response.status).toBe(200);
      const [row] = await server.sql(`SELECT "entityId" FROM events WHERE "uuid" = $1`, [uuid]);
      expect(String(row.entityId)).toBe('9007199254740991');
    });

    it('when the uuid is upper case, then it is stored lower case and a lower-case re-delivery is a duplicate', async () => {
      const uuid = randomUUID();
      const first = await server.post(key, { entityId: 504, uuid: uuid.toUpperCase(), payload: [element()] });
      expect(first.status).toBe(200);
      expect(first.body).toEqual({ status: 'ok', uuid, stored: 1, duplicates: 0 });
      expect(await server.sql(`SELECT "uuid" FROM events WHERE "uuid" = $1`, [uuid])).toEqual([{ uuid }]);

      const again = await storesNothing(() => server.post(key, { entityId: 504, uuid, payload: [element()] }));
      expect(again.status).toBe(200);
      expect(again.body).toEqual({ status: 'ok', uuid, stored: 0, duplicates: 1 });
    });
  });

  describe('routing', () => {
    it('when the method is GET, then 405 with Allow: POST and nothing is stored', async () => {
      const response = await storesNothing(() => rawRequest(server.app.url, { method: 'GET', headers: { 'x-api-key': key } }));
      expect(response.status).toBe(405);
      expect(response.headers.allow).toBe('POST');
      expect(response.body).toEqual({ error: 'method_not_allowed', message: expect.stringContaining('POST') });
    });

    it('when the method is PUT with a valid body, then 405 and nothing is stored', async () => {
      const response = await storesNothing(() =>
        rawRequest(server.app.url, {
          method: 'PUT',
          headers: { 'x-api-key': key, 'content-type': 'application/json' },
          body: JSON.stringify(body()),
        }),
      );
      expect(response.status).toBe(405);
    });

    it('when the path is unknown, then 404 naming it and nothing is stored', async () => {
      const response = await storesNothing(() =>
        rawRequest(server.app.url, {
          path: '/webhook',
          headers: { 'x-api-key': key, 'content-type': 'application/json' },
          body: JSON.stringify(body()),
        }),
      );
      expect(response.status).toBe(404);
      expect(response.body).toEqual({ error: 'not_found', message: expect.stringContaining('/webhook') });
    });

    it('when the path carries a query string, then it still routes to /webhooks', async () => {
      const response = await rawRequest(server.app.url, {
        path: '/webhooks?source=test',
        headers: { 'x-api-key': key, 'content-type': 'application/json' },
        body: JSON.stringify(body()),
      });
      expect(response.status).toBe(200);
    });
  });
});
