import { generateKeyPairSync } from 'node:crypto';
import path from 'node:path';
import {
  ConfigError,
  DEFAULT_SQLITE_FILE,
  defaultMaxConnections,
  defaultMaxScans,
  hostLimits,
  loadConfig,
  loadDatabaseConfig,
} from '../src/config.js';
import { SERVICE_ENTRY, killChildren, spawnNode, withTimeout } from './support/child.js';

/** The ConfigError that `loadConfig(env)` throws (fails the test when it does not throw one). */
function configError(env: NodeJS.ProcessEnv): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error(`loadConfig(${JSON.stringify(env)}) did not throw`);
}

describe('loadConfig', () => {
  it('when nothing is set, then port 4000 on every interface, the SQLite file data/gymgraph.sqlite and documented defaults', () => {
    expect(loadConfig({}, { openFileLimit: 1_048_576 })).toEqual({
      port: 4000,
      host: '0.0.0.0',
      database: { kind: 'sqlite', file: path.join('data', 'gymgraph.sqlite') },
      databaseTimeouts: { connectMs: 2000, statementMs: 3000, lockMs: 2000 },
      reads: { timeoutMs: 5000, sqliteWorkers: 2, maxConcurrentScans: defaultMaxScans() },
      redisUrl: undefined,
      http: { headersTimeoutMs: 10_000, requestTimeoutMs: 30_000, keepAliveTimeoutMs: 65_000, maxConnections: 16_384 },
      realtime: {
        redisChannel: 'gymgraph:events',
        backstopMs: 1000,
        maxQueuedEvents: 1000,
        maxBufferedBytes: 1024 * 1024,
        tokenRecheckMs: 5000,
        keepAliveMs: 30000,
        connectionInitTimeoutMs: 3000,
        maxSubscriptionsPerSocket: 100,
        maxSocketsPerToken: 500,
        replayEventsPerSecond: 50_000,
      },
      graphql: { costPerMinute: 200_000, answerCache: { maxAgeMs: 1000, maxEntries: 1000, maxBytes: 64 * 1024 * 1024 }, corsOrigins: [] },
      hydration: {
        enabled: true,
        concurrency: 8,
        maxAttempts: 8,
        retryBaseMs: 2000,
        retryMaxMs: 300_000,
        delayMs: 1000,
        pollMs: 500,
        leaseMs: 60_000,
      },
      adminToken: undefined,
      nodeEnv: 'production',
      logLevel: 'info',
      webhookMaxBodyBytes: 1024 * 1024,
      shutdownTimeoutMs: 10_000,
      webhookAckTimeoutMs: 4000,
      openApi: { requestsPerMinute: 900, timeoutMs: 10_000, maxAttempts: 5 },
      reconcile: { everyMs: undefined, lookbackMs: 7 * 86_400_000 },
      metrics: { enabled: true, token: undefined },
      presence: { maxStayMs: 12 * 3_600_000 },
      jwt: undefined,
    });
    expect(DEFAULT_SQLITE_FILE).toBe(path.join('data', 'gymgraph.sqlite'));
  });

  it('when OCCUPANCY_MAX_STAY is a duration or off, then presence is cut after it, or never', () => {
    expect(loadConfig({ OCCUPANCY_MAX_STAY: '90m' }).presence).toEqual({ maxStayMs: 90 * 60_000 });
    expect(loadConfig({ OCCUPANCY_MAX_STAY: '1d' }).presence).toEqual({ maxStayMs: 86_400_000 });
    expect(loadConfig({ OCCUPANCY_MAX_STAY: 'off' }).presence).toEqual({ maxStayMs: null });
    expect(loadConfig({ OCCUPANCY_MAX_STAY: '' }).presence).toEqual({ maxStayMs: 12 * 3_600_000 });
  });

  it('when GRAPHQL_ANSWER_CACHE_* are set, then the answer cache takes them; 0 turns it off; a negative age is refused', () => {
    expect(
      loadConfig({ GRAPHQL_ANSWER_CACHE_MS: '0', GRAPHQL_ANSWER_CACHE_ENTRIES: '50', GRAPHQL_ANSWER_CACHE_BYTES: '2048' }).graphql
        .answerCache,
    ).toEqual({ maxAgeMs: 0, maxEntries: 50, maxBytes: 2048 });
    expect(configError({ GRAPHQL_ANSWER_CACHE_MS: '-1' }).message).toContain('GRAPHQL_ANSWER_CACHE_MS');
  });

  it('when the open-file limit is below what HTTP_MAX_CONNECTIONS would default to, then the cap defaults to 80% of it', () => {
    expect(loadConfig({}, { openFileLimit: 1024 }).http.maxConnections).toBe(819);
    expect(loadConfig({}, { openFileLimit: 20_000 }).http.maxConnections).toBe(16_000);
    expect(loadConfig({}, { openFileLimit: undefined }).http.maxConnections).toBe(16_384);
    expect(loadConfig({ HTTP_MAX_CONNECTIONS: '30000' }, { openFileLimit: 1024 }).http.maxConnections).toBe(30_000);
    // This process's own limit is read (Linux), and the default follows it.
    expect(loadConfig({}).http.maxConnections).toBe(defaultMaxConnections(hostLimits()));
  });

  it('when DATABASE_READ_MAX_SCANS is unset, then half the cores, at least 1', () => {
    expect([1, 2, 3, 8].map((cores) => defaultMaxScans(cores))).toEqual([1, 1, 1, 4]);
  });

  it('when NODE_ENV is test and LOG_LEVEL unset, then the logs are silent', () => {
    expect(loadConfig({ NODE_ENV: 'test' }).logLevel).toBe('silent');
  });

  it('when DATABASE_URL is a postgres:// or postgresql:// URL, then PostgreSQL at that URL', () => {
    for (const url of ['postgres://gym:secret@db.internal:5432/gymgraph', 'postgresql://127.0.0.1/gymgraph']) {
      expect(loadConfig({ DATABASE_URL: url }).database).toEqual({ kind: 'postgres', url });
    }
  });

  it('when DATABASE_URL is sqlite:<path> (or sqlite://<path>), then that SQLite file', () => {
    expect(loadConfig({ DATABASE_URL: 'sqlite:/var/lib/gym/records.sqlite' }).database).toEqual({
      kind: 'sqlite',
      file: '/var/lib/gym/records.sqlite',
    });
    expect(loadConfig({ DATABASE_URL: 'sqlite:data/other.sqlite' }).database).toEqual({ kind: 'sqlite', file: 'data/other.sqlite' });
    expect(loadConfig({ DATABASE_URL: 'sqlite://data/other.sqlite' }).database).toEqual({ kind: 'sqlite', file: 'data/other.sqlite' });
    expect(loadDatabaseConfig({ DATABASE_URL: 'sqlite:x.sqlite' })).toEqual({ kind: 'sqlite', file: 'x.sqlite' });
  });

  it('when every variable is set validly, then each is taken', () => {
    const config = loadConfig({
      PORT: '8080',
      HOST: '127.0.0.1',
      ADMIN_TOKEN: 'a-long-enough-admin-token',
      LOG_LEVEL: 'debug',
      NODE_ENV: 'production',
      REDIS_URL: 'redis://127.0.0.1:6379',
      WEBHOOK_MAX_BODY_BYTES: '2048',
      SHUTDOWN_TIMEOUT_MS: '0',
      REDIS_CHANNEL: 'acme-prod:events',
      REALTIME_BACKSTOP_MS: '250',
      SUBSCRIPTION_MAX_QUEUE: '50',
      SUBSCRIPTION_MAX_BUFFERED_BYTES: '65536',
      WS_TOKEN_RECHECK_MS: '1000',
      WS_KEEP_ALIVE_MS: '20000',
      WS_CONNECTION_INIT_TIMEOUT_MS: '10000',
      WS_MAX_SUBSCRIPTIONS_PER_SOCKET: '20',
      WS_MAX_SOCKETS_PER_TOKEN: '5',
      WS_REPLAY_EVENTS_PER_SECOND: '0',
      HTTP_HEADERS_TIMEOUT_MS: '5000',
      HTTP_REQUEST_TIMEOUT_MS: '20000',
      HTTP_KEEP_ALIVE_TIMEOUT_MS: '5000',
      HTTP_MAX_CONNECTIONS: '2000',
      HYDRATION_ENABLED: 'false',
      HYDRATION_CONCURRENCY: '2',
      HYDRATION_MAX_ATTEMPTS: '3',
      HYDRATION_RETRY_BASE_MS: '100',
      HYDRATION_RETRY_MAX_MS: '1000',
      HYDRATION_DELAY_MS: '0',
      HYDRATION_POLL_MS: '50',
      HYDRATION_LEASE_MS: '5000',
      OPEN_API_REQUESTS_PER_MINUTE: '500',
      OPEN_API_TIMEOUT_MS: '2000',
      OPEN_API_MAX_ATTEMPTS: '3',
      RECONCILE_EVERY: '6h',
      RECONCILE_LOOKBACK: '48h',
      DATABASE_CONNECT_TIMEOUT_MS: '500',
      DATABASE_STATEMENT_TIMEOUT_MS: '1500',
      DATABASE_LOCK_TIMEOUT_MS: '700',
      WEBHOOK_ACK_TIMEOUT_MS: '2500',
      DATABASE_READ_TIMEOUT_MS: '0',
      SQLITE_READ_WORKERS: '4',
      DATABASE_READ_MAX_SCANS: '3',
      CORS_ORIGINS: 'https://app.example.com, http://localhost:5173',
      METRICS_ENABLED: 'false',
      METRICS_TOKEN: 'a-long-enough-metrics-token',
    });
    expect(config).toMatchObject({
      port: 8080,
      host: '127.0.0.1',
      adminToken: 'a-long-enough-admin-token',
      logLevel: 'debug',
      nodeEnv: 'production',
      redisUrl: 'redis://127.0.0.1:6379',
      webhookMaxBodyBytes: 2048,
      shutdownTimeoutMs: 0,
      realtime: {
        redisChannel: 'acme-prod:events',
        backstopMs: 250,
        maxQueuedEvents: 50,
        maxBufferedBytes: 65536,
        tokenRecheckMs: 1000,
        keepAliveMs: 20000,
        connectionInitTimeoutMs: 10_000,
        maxSubscriptionsPerSocket: 20,
        maxSocketsPerToken: 5,
        replayEventsPerSecond: 0,
      },
      http: { headersTimeoutMs: 5000, requestTimeoutMs: 20_000, keepAliveTimeoutMs: 5000, maxConnections: 2000 },
      hydration: {
        enabled: false,
        concurrency: 2,
        maxAttempts: 3,
        retryBaseMs: 100,
        retryMaxMs: 1000,
        delayMs: 0,
        pollMs: 50,
        leaseMs: 5000,
      },
      openApi: { requestsPerMinute: 500, timeoutMs: 2000, maxAttempts: 3 },
      reconcile: { everyMs: 6 * 3_600_000, lookbackMs: 48 * 3_600_000 },
      databaseTimeouts: { connectMs: 500, statementMs: 1500, lockMs: 700 },
      webhookAckTimeoutMs: 2500,
      reads: { timeoutMs: 0, sqliteWorkers: 4, maxConcurrentScans: 3 },
      metrics: { enabled: false, token: 'a-long-enough-metrics-token' },
      graphql: { corsOrigins: ['https://app.example.com', 'http://localhost:5173'] },
    });
    expect(loadConfig({ CORS_ORIGINS: '*' }).graphql.corsOrigins).toBe('*');
    expect(loadConfig({ CORS_ORIGINS: 'http://[::1]:3000' }).graphql.corsOrigins).toEqual(['http://[::1]:3000']);
  });

  it.each([
    ['PORT', { PORT: 'abc' }, /^PORT must be an integer from 0 to 65535, got "abc"$/],
    ['PORT', { PORT: '70000' }, /^PORT must be an integer from 0 to 65535, got "70000"$/],
    ['PORT', { PORT: '80.5' }, /^PORT must be an integer/],
    [
      'DATABASE_URL',
      { DATABASE_URL: 'mysql://db/gym' },
      /^DATABASE_URL must start with postgres:\/\/, postgresql:\/\/ or sqlite:, got "mysql:\.\.\."$/,
    ],
    ['DATABASE_URL', { DATABASE_URL: 'sqlite:' }, /^DATABASE_URL "sqlite:" needs a file path/],
    ['ADMIN_TOKEN', { ADMIN_TOKEN: 'short' }, /^ADMIN_TOKEN must be at least 16 characters long$/],
    ['LOG_LEVEL', { LOG_LEVEL: 'verbose' }, /^LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, got "verbose"$/],
    ['REDIS_URL', { REDIS_URL: 'http://cache:6379' }, /^REDIS_URL must start with redis:\/\/ or rediss:\/\/$/],
    [
      'REDIS_CHANNEL',
      { REDIS_CHANNEL: 'gym events' },
      /^REDIS_CHANNEL must be 1 to 200 printable ASCII characters without spaces or \* \? \[ \], got "gym events"$/,
    ],
    ['REDIS_CHANNEL', { REDIS_CHANNEL: 'gymgraph:*' }, /^REDIS_CHANNEL must be/],
    [
      'OPEN_API_REQUESTS_PER_MINUTE',
      { OPEN_API_REQUESTS_PER_MINUTE: '1001' },
      /^OPEN_API_REQUESTS_PER_MINUTE must be an integer from 1 to 1000, got "1001"$/,
    ],
    [
      'RECONCILE_EVERY',
      { RECONCILE_EVERY: '6 hours' },
      /^RECONCILE_EVERY must be a duration such as 30m, 6h or 7d \(from 1m to 366d\), got "6 hours"$/,
    ],
    ['RECONCILE_EVERY', { RECONCILE_EVERY: '0m' }, /^RECONCILE_EVERY must be a duration/],
    [
      'OCCUPANCY_MAX_STAY',
      { OCCUPANCY_MAX_STAY: '12 hours' },
      /^OCCUPANCY_MAX_STAY must be a duration such as 30m, 6h or 7d \(from 1m to 366d\) or off, got "12 hours"$/,
    ],
    ['OCCUPANCY_MAX_STAY', { OCCUPANCY_MAX_STAY: '0h' }, /^OCCUPANCY_MAX_STAY must be a duration/],
    ['OCCUPANCY_MAX_STAY', { OCCUPANCY_MAX_STAY: 'none' }, /^OCCUPANCY_MAX_STAY must be a duration .* or off, got "none"$/],
    ['REALTIME_BACKSTOP_MS', { REALTIME_BACKSTOP_MS: '10' }, /^REALTIME_BACKSTOP_MS must be an integer from 50 to 60000, got "10"$/],
    ['SUBSCRIPTION_MAX_QUEUE', { SUBSCRIPTION_MAX_QUEUE: '0' }, /^SUBSCRIPTION_MAX_QUEUE must be an integer from 1 to 1000000, got "0"$/],
    [
      'SUBSCRIPTION_MAX_BUFFERED_BYTES',
      { SUBSCRIPTION_MAX_BUFFERED_BYTES: '10' },
      /^SUBSCRIPTION_MAX_BUFFERED_BYTES must be an integer from 1024/,
    ],
    ['WS_TOKEN_RECHECK_MS', { WS_TOKEN_RECHECK_MS: 'often' }, /^WS_TOKEN_RECHECK_MS must be an integer from 50 to 3600000, got "often"$/],
    ['WS_KEEP_ALIVE_MS', { WS_KEEP_ALIVE_MS: '50' }, /^WS_KEEP_ALIVE_MS must be an integer from 100 to 600000, got "50"$/],
    [
      'WS_CONNECTION_INIT_TIMEOUT_MS',
      { WS_CONNECTION_INIT_TIMEOUT_MS: '-1' },
      /^WS_CONNECTION_INIT_TIMEOUT_MS must be an integer from 50 to 600000/,
    ],
    [
      'WS_MAX_SUBSCRIPTIONS_PER_SOCKET',
      { WS_MAX_SUBSCRIPTIONS_PER_SOCKET: '0' },
      /^WS_MAX_SUBSCRIPTIONS_PER_SOCKET must be an integer from 1 to 100000, got "0"$/,
    ],
    [
      'WS_MAX_SOCKETS_PER_TOKEN',
      { WS_MAX_SOCKETS_PER_TOKEN: 'lots' },
      /^WS_MAX_SOCKETS_PER_TOKEN must be an integer from 1 to 1000000, got "lots"$/,
    ],
    [
      'HTTP_HEADERS_TIMEOUT_MS',
      { HTTP_HEADERS_TIMEOUT_MS: '10' },
      /^HTTP_HEADERS_TIMEOUT_MS must be an integer from 100 to 600000, got "10"$/,
    ],
    ['HTTP_REQUEST_TIMEOUT_MS', { HTTP_REQUEST_TIMEOUT_MS: '1.5' }, /^HTTP_REQUEST_TIMEOUT_MS must be an integer from 100 to 3600000/],
    ['HTTP_KEEP_ALIVE_TIMEOUT_MS', { HTTP_KEEP_ALIVE_TIMEOUT_MS: 'x' }, /^HTTP_KEEP_ALIVE_TIMEOUT_MS must be an integer/],
    ['HTTP_MAX_CONNECTIONS', { HTTP_MAX_CONNECTIONS: '4' }, /^HTTP_MAX_CONNECTIONS must be an integer from 16 to 1000000, got "4"$/],
    [
      'HTTP_HEADERS_TIMEOUT_MS',
      { HTTP_HEADERS_TIMEOUT_MS: '20000', HTTP_REQUEST_TIMEOUT_MS: '10000' },
      /^HTTP_HEADERS_TIMEOUT_MS \(20000\) must not be above HTTP_REQUEST_TIMEOUT_MS \(10000\)$/,
    ],
    ['HYDRATION_ENABLED', { HYDRATION_ENABLED: 'yes' }, /^HYDRATION_ENABLED must be true or false, got "yes"$/],
    [
      'DATABASE_READ_TIMEOUT_MS',
      { DATABASE_READ_TIMEOUT_MS: '5s' },
      /^DATABASE_READ_TIMEOUT_MS must be an integer from 0 to 3600000, got "5s"$/,
    ],
    ['SQLITE_READ_WORKERS', { SQLITE_READ_WORKERS: '65' }, /^SQLITE_READ_WORKERS must be an integer from 0 to 64, got "65"$/],
    ['DATABASE_READ_MAX_SCANS', { DATABASE_READ_MAX_SCANS: '0' }, /^DATABASE_READ_MAX_SCANS must be an integer from 1 to 1024, got "0"$/],
    ['HYDRATION_CONCURRENCY', { HYDRATION_CONCURRENCY: '0' }, /^HYDRATION_CONCURRENCY must be an integer from 1 to 256, got "0"$/],
    ['HYDRATION_MAX_ATTEMPTS', { HYDRATION_MAX_ATTEMPTS: 'many' }, /^HYDRATION_MAX_ATTEMPTS must be an integer from 1 to 100/],
    [
      'HYDRATION_RETRY_MAX_MS',
      { HYDRATION_RETRY_BASE_MS: '5000', HYDRATION_RETRY_MAX_MS: '1000' },
      /^HYDRATION_RETRY_MAX_MS \(1000\) must not be below HYDRATION_RETRY_BASE_MS \(5000\)$/,
    ],
    ['HYDRATION_LEASE_MS', { HYDRATION_LEASE_MS: '10' }, /^HYDRATION_LEASE_MS must be an integer from 1000/],
    [
      'DATABASE_CONNECT_TIMEOUT_MS',
      { DATABASE_CONNECT_TIMEOUT_MS: '0' },
      /^DATABASE_CONNECT_TIMEOUT_MS must be an integer from 100 to 600000 \(ms\), got "0"$/,
    ],
    [
      'DATABASE_STATEMENT_TIMEOUT_MS',
      { DATABASE_STATEMENT_TIMEOUT_MS: '3s' },
      /^DATABASE_STATEMENT_TIMEOUT_MS must be an integer from 100/,
    ],
    ['DATABASE_LOCK_TIMEOUT_MS', { DATABASE_LOCK_TIMEOUT_MS: '-5' }, /^DATABASE_LOCK_TIMEOUT_MS must be an integer from 100/],
    ['METRICS_ENABLED', { METRICS_ENABLED: '1' }, /^METRICS_ENABLED must be true or false, got "1"$/],
    ['METRICS_TOKEN', { METRICS_TOKEN: 'short' }, /^METRICS_TOKEN must be at least 16 characters long, without whitespace$/],
    ['METRICS_TOKEN', { METRICS_TOKEN: 'a token with spaces in it' }, /^METRICS_TOKEN must be at least 16/],
    [
      'WEBHOOK_ACK_TIMEOUT_MS',
      { WEBHOOK_ACK_TIMEOUT_MS: '50' },
      /^WEBHOOK_ACK_TIMEOUT_MS must be an integer from 100 to 600000, got "50"$/,
    ],
    [
      'CORS_ORIGINS',
      { CORS_ORIGINS: 'app.example.com' },
      /^CORS_ORIGINS entry "app\.example\.com" is not an origin: expected scheme:\/\/host\[:port\]/,
    ],
    [
      'CORS_ORIGINS',
      { CORS_ORIGINS: 'https://app.example.com/' },
      /^CORS_ORIGINS entry "https:\/\/app\.example\.com\/" is not an origin as browsers send it: expected "https:\/\/app\.example\.com"/,
    ],
    [
      'CORS_ORIGINS',
      { CORS_ORIGINS: 'https://App.example.com:443' },
      /^CORS_ORIGINS entry "https:\/\/App\.example\.com:443" is not an origin as browsers send it: expected "https:\/\/app\.example\.com"/,
    ],
    [
      'CORS_ORIGINS',
      { CORS_ORIGINS: 'ftp://files.example.com' },
      /^CORS_ORIGINS entry "ftp:\/\/files\.example\.com" is not an http or https origin$/,
    ],
    ['CORS_ORIGINS', { CORS_ORIGINS: 'https://a.example.com,,https://b.example.com' }, /^CORS_ORIGINS entry "" is empty/],
    ['CORS_ORIGINS', { CORS_ORIGINS: '*, https://a.example.com' }, /^CORS_ORIGINS must be "\*" alone/],
  ])('when %s is invalid (%j), then a ConfigError naming it', (_name, env, message) => {
    const error = configError(env);
    expect(error.problems).toHaveLength(1);
    expect(error.problems[0]).toMatch(message);
    expect(error.message).toContain(error.problems[0]);
  });

  describe('member JWTs', () => {
    const { publicKey: rsaPem } = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      publicKeyEncoding: { type: 'spki', format: 'pem' },
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    });
    const { publicKey: p384Pem } = generateKeyPairSync('ec', {
      namedCurve: 'secp384r1',
      publicKeyEncoding: { type: 'spki', format: 'pem' },
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    });
    const REQUIRED = { JWT_ISSUER: 'https://id.example.com/', JWT_AUDIENCE: 'gymgraph' };

    it('when a JWKS URL, issuer and audience are set, then JWTs are on with the default claim names, a 30 s skew and a 30 s JWKS cooldown', () => {
      expect(loadConfig({ JWT_JWKS_URL: 'https://id.example.com/.well-known/jwks.json', ...REQUIRED }).jwt).toEqual({
        jwksUrl: 'https://id.example.com/.well-known/jwks.json',
        publicKey: undefined,
        secret: undefined,
        issuer: 'https://id.example.com/',
        audience: 'gymgraph',
        clockSkewS: 30,
        jwksCooldownMs: 30_000,
        claims: { role: 'role', studioIds: 'studioIds', customerId: 'customerId' },
      });
    });

    it('when every JWT variable is set validly, then each is taken (a PEM with \\n for line breaks too)', () => {
      const jwt = loadConfig({
        JWT_PUBLIC_KEY: rsaPem.replace(/\n/g, '\\n'),
        JWT_SECRET: 'x'.repeat(32),
        ...REQUIRED,
        JWT_CLOCK_SKEW_S: '5',
        JWT_JWKS_COOLDOWN_MS: '1000',
        JWT_CLAIM_ROLE: 'https://example.com/claims.role',
        JWT_CLAIM_STUDIO_IDS: 'gym.studios',
        JWT_CLAIM_CUSTOMER_ID: 'sub_customer',
      }).jwt;
      expect(jwt).toEqual({
        jwksUrl: undefined,
        publicKey: rsaPem,
        secret: 'x'.repeat(32),
        issuer: REQUIRED.JWT_ISSUER,
        audience: REQUIRED.JWT_AUDIENCE,
        clockSkewS: 5,
        jwksCooldownMs: 1000,
        claims: { role: 'https://example.com/claims.role', studioIds: 'gym.studios', customerId: 'sub_customer' },
      });
    });

    it.each([
      [
        'issuer and audience missing',
        { JWT_SECRET: 'x'.repeat(32) },
        [/^JWT_ISSUER is required with JWTs/, /^JWT_AUDIENCE is required with JWTs/],
      ],
      [
        'issuer without a key',
        { JWT_ISSUER: 'https://id.example.com/' },
        [/^JWT_ISSUER is set but JWTs are off: set JWT_JWKS_URL, JWT_PUBLIC_KEY or JWT_SECRET too$/],
      ],
      [
        'both a JWKS URL and a PEM key',
        { ...REQUIRED, JWT_JWKS_URL: 'https://id.example.com/jwks', JWT_PUBLIC_KEY: rsaPem },
        [/^JWT_JWKS_URL and JWT_PUBLIC_KEY are exclusive/],
      ],
      [
        'a plain-http JWKS off loopback',
        { ...REQUIRED, JWT_JWKS_URL: 'http://id.example.com/jwks' },
        [/^JWT_JWKS_URL must be https: \(plain http: only on loopback\), got "http:"$/],
      ],
      [
        'a JWKS URL that is no URL',
        { ...REQUIRED, JWT_JWKS_URL: 'id.example.com/jwks' },
        [/^JWT_JWKS_URL must be a URL, got "id\.example\.com\/jwks"$/],
      ],
      ['a PEM key that is not one', { ...REQUIRED, JWT_PUBLIC_KEY: 'not a key' }, [/^JWT_PUBLIC_KEY must be a PEM public key/]],
      [
        'an EC key off P-256',
        { ...REQUIRED, JWT_PUBLIC_KEY: p384Pem },
        [/^JWT_PUBLIC_KEY must be an RSA \(RS256\) or EC P-256 \(ES256\) public key, got ec secp384r1$/],
      ],
      ['a short HS256 secret', { ...REQUIRED, JWT_SECRET: 'too-short' }, [/^JWT_SECRET must be at least 32 characters long/]],
      [
        'a clock skew over 300 s',
        { ...REQUIRED, JWT_SECRET: 'x'.repeat(32), JWT_CLOCK_SKEW_S: '3600' },
        [/^JWT_CLOCK_SKEW_S must be an integer from 0 to 300, got "3600"$/],
      ],
      [
        'a claim name with a space',
        { ...REQUIRED, JWT_SECRET: 'x'.repeat(32), JWT_CLAIM_ROLE: 'my role' },
        [/^JWT_CLAIM_ROLE must be a claim name or a dotted path without spaces/],
      ],
    ])('when %s, then a ConfigError naming it', (_what, env, messages) => {
      const error = configError(env);
      expect(error.problems).toHaveLength(messages.length);
      messages.forEach((message, i) => expect(error.problems[i]).toMatch(message));
    });

    it('when JWT_JWKS_URL is plain http on loopback, then it is accepted (for a local identity provider)', () => {
      expect(loadConfig({ ...REQUIRED, JWT_JWKS_URL: 'http://127.0.0.1:8080/jwks' }).jwt?.jwksUrl).toBe('http://127.0.0.1:8080/jwks');
    });
  });

  it('when several variables are invalid, then one ConfigError lists every problem, each naming its variable', () => {
    const error = configError({ PORT: 'abc', DATABASE_URL: 'mysql://db/gym', ADMIN_TOKEN: 'short', LOG_LEVEL: 'verbose' });
    expect(error.name).toBe('ConfigError');
    expect(error.problems).toHaveLength(4);
    for (const variable of ['PORT', 'DATABASE_URL', 'ADMIN_TOKEN', 'LOG_LEVEL']) {
      expect(error.problems.filter((p) => p.startsWith(`${variable} `))).toHaveLength(1);
      expect(error.message).toContain(`- ${variable} `);
    }
  });

  it('when the invalid DATABASE_URL carries a password, then the message does not repeat it', () => {
    const error = configError({ DATABASE_URL: 'mysql://gym:hunter2-secret@db/gym' });
    expect(error.message).not.toContain('hunter2-secret');
  });
});

describe('node dist/src/main.js with an invalid configuration', () => {
  afterEach(() => killChildren());

  it('when PORT=abc, then it exits with code 2 and names the problem on stderr', async () => {
    const child = spawnNode(SERVICE_ENTRY, [], {
      PORT: 'abc',
      ADMIN_TOKEN: 'short',
      DATABASE_URL: 'sqlite:/nonexistent-dir/never-created.sqlite',
    });
    const exit = await withTimeout(child.exited, 10_000, 'the service to exit');
    expect(exit).toEqual({ code: 2, signal: null });
    expect(child.stderr()).toContain('gymgraph: invalid configuration');
    expect(child.stderr()).toContain('PORT must be an integer from 0 to 65535, got "abc"');
    expect(child.stderr()).toContain('ADMIN_TOKEN must be at least 16 characters long');
    expect(child.stdout()).toBe('');
  });
});
