import { execFile } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { GraphQLObjectType, GraphQLSchema, GraphQLString } from 'graphql';
import type { DataSource } from 'typeorm';
import { createGraphQLHandler } from '../src/graphql/http.js';
import { KNOWN_EVENT_TYPES } from '../src/events/event-catalog.js';
import { createLogger } from '../src/log.js';
import { startTestServer, type TestServer } from './support/server.js';

const EVENT_TYPES_QUERY = '{ eventTypes { name entity description } }';
const ADMIN_TOKEN = 'test-admin-token-0123456789';
const ROOT = path.resolve(__dirname, '..');

describe('/graphql over HTTP (sqlite)', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer('sqlite', { ADMIN_TOKEN });
  });
  afterAll(() => server.stop());

  const request = async (init: RequestInit & { search?: string; token?: string | null } = {}) => {
    const { search = '', token = ADMIN_TOKEN, ...rest } = init;
    const headers = new Headers(rest.headers);
    if (token !== null && !headers.has('authorization')) headers.set('authorization', `Bearer ${token}`);
    const response = await fetch(`${server.app.url}/graphql${search}`, { ...rest, headers });
    const text = await response.text();
    return { status: response.status, headers: response.headers, text, json: () => JSON.parse(text) };
  };
  const post = (body: unknown, headers: Record<string, string> = {}) =>
    request({
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });

  it('when eventTypes is queried by POST, then 200 with every known type, each described', async () => {
    const response = await post({ query: EVENT_TYPES_QUERY });
    expect(response.status).toBe(200);
    const { data, errors } = response.json();
    expect(errors).toBeUndefined();
    expect(data.eventTypes).toHaveLength(KNOWN_EVENT_TYPES.length);
    expect(data.eventTypes.map((type: { name: string }) => type.name)).toEqual([...KNOWN_EVENT_TYPES]);
    for (const type of data.eventTypes) {
      expect(type.entity).toMatch(/\S/);
      expect(type.description).toMatch(/\S.*\.$/);
    }
    expect(data.eventTypes.find((type: { name: string }) => type.name === 'CONTRACT_CREATED')).toEqual({
      name: 'CONTRACT_CREATED',
      entity: 'customer',
      description: expect.stringContaining('content.contractId'),
    });
  });

  it('when the query comes as a GET query string, then it runs', async () => {
    const response = await request({
      search: `?query=${encodeURIComponent('{ eventTypes { name } }')}`,
      headers: { accept: 'application/json', 'apollo-require-preflight': 'true' },
    });
    expect(response.status).toBe(200);
    expect(response.json().data.eventTypes).toHaveLength(KNOWN_EVENT_TYPES.length);
  });

  it('when a GET carries neither a content-type nor a preflight header, then 400: it could be a cross-site request', async () => {
    const response = await request({
      search: `?query=${encodeURIComponent('{ eventTypes { name } }')}`,
      headers: { accept: 'application/json' },
    });
    expect(response.status).toBe(400);
    expect(response.json().errors[0].extensions.code).toBe('BAD_REQUEST');
  });

  it('when the client accepts application/graphql-response+json, then the response has that media type', async () => {
    const response = await post({ query: EVENT_TYPES_QUERY }, { accept: 'application/graphql-response+json' });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/graphql-response\+json\b/);
    expect(response.json().data.eventTypes).toHaveLength(KNOWN_EVENT_TYPES.length);
  });

  it('when the query has a syntax error, then 400 with code GRAPHQL_PARSE_FAILED', async () => {
    const response = await post({ query: '{ eventTypes { name ' });
    expect(response.status).toBe(400);
    const { errors } = response.json();
    expect(errors[0].extensions.code).toBe('GRAPHQL_PARSE_FAILED');
    expect(errors[0].message).toMatch(/Syntax Error/);
  });

  it('when the query asks for a field that does not exist, then 400 with code GRAPHQL_VALIDATION_FAILED and the field named', async () => {
    const response = await post({ query: '{ eventTypes { nope } }' });
    expect(response.status).toBe(400);
    const { errors } = response.json();
    expect(errors[0].extensions.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(errors[0].message).toMatch(/nope/);
  });

  it('when the body is not valid JSON, then 400 with code BAD_REQUEST', async () => {
    const response = await post('{"query": ');
    expect(response.status).toBe(400);
    expect(response.json().errors[0]).toEqual({ message: expect.stringMatching(/not valid JSON/), extensions: { code: 'BAD_REQUEST' } });
  });

  it('when the body is larger than 1 MB, then 413 with code PAYLOAD_TOO_LARGE', async () => {
    const response = await post({ query: EVENT_TYPES_QUERY, variables: { padding: 'x'.repeat(1024 * 1024) } });
    expect(response.status).toBe(413);
    expect(response.json().errors[0].extensions.code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('when a browser opens it (Accept: text/html), then the IDE page (test/ide.test.ts), with no external URL', async () => {
    const response = await request({ headers: { accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/html\b/);
    expect(response.headers.get('content-security-policy')).toMatch(/default-src 'none'/);
    expect(response.text).toContain('id="ruru-root"');
    expect(response.text).not.toMatch(/https?:\/\//i);
  });

  it('when a client sends Accept: */*, then JSON, not the page', async () => {
    const response = await request({
      search: `?query=${encodeURIComponent('{ eventTypes { name } }')}`,
      headers: { accept: '*/*', 'apollo-require-preflight': 'true' },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json\b/);
  });

  it('when no bearer token is sent, then 401 with code UNAUTHENTICATED and no data', async () => {
    const response = await request({
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: EVENT_TYPES_QUERY }),
      token: null,
    });
    expect(response.status).toBe(401);
    expect(response.json()).toEqual({
      errors: [expect.objectContaining({ extensions: expect.objectContaining({ code: 'UNAUTHENTICATED' }) })],
    });
  });

  it('when an unknown token is sent, then 401 with code UNAUTHENTICATED', async () => {
    const response = await request({
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: EVENT_TYPES_QUERY }),
      token: 'ggt_not-a-real-token',
    });
    expect(response.status).toBe(401);
    expect(response.json().errors[0]).toMatchObject({ message: 'unknown or revoked token', extensions: { code: 'UNAUTHENTICATED' } });
  });

  it('when the method is neither GET nor POST, then 405', async () => {
    const response = await request({ method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(response.status).toBe(405);
  });
});

describe('GraphQL error masking', () => {
  const schema = new GraphQLSchema({
    query: new GraphQLObjectType({
      name: 'Query',
      fields: {
        boom: {
          type: GraphQLString,
          resolve: () => {
            throw new Error('secret table detail');
          },
        },
      },
    }),
  });
  const run = async (development: boolean) => {
    const handler = await createGraphQLHandler(schema, {
      development,
      logger: createLogger('silent'),
      authenticate: async () => ({ role: 'admin', tokenId: null, studioIds: null, personalData: true, expiresAt: null }),
      dataSource: {} as DataSource, // this schema never touches the database
    });
    const server = http.createServer((req, res) => void handler.handle(req, res, createLogger('silent')));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const response = await fetch(`http://127.0.0.1:${port}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Bearer any' },
        body: JSON.stringify({ query: '{ boom }' }),
      });
      return (await response.json()) as { errors: { message: string; path?: string[]; extensions: Record<string, unknown> }[] };
    } finally {
      await new Promise((resolve) => server.close(resolve));
      await handler.stop();
    }
  };

  it('when a resolver fails outside development, then the client sees only "Internal server error" and the path', async () => {
    const { errors } = await run(false);
    expect(errors).toEqual([
      {
        message: 'Internal server error',
        locations: [{ line: 1, column: 3 }],
        path: ['boom'],
        extensions: { code: 'INTERNAL_SERVER_ERROR' },
      },
    ]);
  });

  it('when a resolver fails in development, then the client sees the message and a stack trace', async () => {
    const { errors } = await run(true);
    expect(errors[0]!.message).toBe('secret table detail');
    expect(errors[0]!.extensions.stacktrace).toEqual(expect.any(Array));
  });
});

describe('schema.graphql', () => {
  it('matches what the code produces (tools/check-schema exits 0)', async () => {
    const tool = path.join(ROOT, 'dist', 'tools', 'check-schema.js');
    if (!fs.existsSync(tool)) throw new Error(`${tool} is missing: build first (npx tsc -p .)`);
    const result = await new Promise<{ code: number | null; output: string }>((resolve) => {
      execFile(process.execPath, [tool], { cwd: ROOT, timeout: 30_000 }, (error, stdout, stderr) =>
        resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, output: `${stdout}${stderr}` }),
      );
    });
    expect(result).toEqual({ code: 0, output: expect.stringContaining('up to date') });
  });
});
