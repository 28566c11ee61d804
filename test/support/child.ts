import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';

/** The compiled entry points (`npm test` builds them before jest runs). */
const ROOT = path.resolve(__dirname, '..', '..');
export const SERVICE_ENTRY = path.join(ROOT, 'dist', 'src', 'main.js');
export const STUDIO_CLI = path.join(ROOT, 'dist', 'src', 'cli', 'studio.js');
export const RECONCILE_CLI = path.join(ROOT, 'dist', 'src', 'cli', 'reconcile.js');
export const ROLLUPS_CLI = path.join(ROOT, 'dist', 'src', 'cli', 'rollups.js');

export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** A node child process whose output is captured (never echoed: tests must not write to the console). */
export interface Child {
  readonly process: ChildProcess;
  /** Resolves when the process has exited and its output streams are closed. */
  readonly exited: Promise<Exit>;
  stdout(): string;
  stderr(): string;
}

const running = new Set<ChildProcess>();

/** Runs `node <script> ...args` in `cwd` (default: the repository) with only `env` (plus PATH) in its environment. */
export function spawnNode(script: string, args: readonly string[], env: Record<string, string>, cwd = ROOT): Child {
  const child = spawn(process.execPath, [script, ...args], {
    cwd,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<Exit>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => {
      running.delete(child);
      resolve({ code, signal });
    });
  });
  exited.catch(() => undefined);
  return { process: child, exited, stdout: () => stdout, stderr: () => stderr };
}

/** Kills (SIGKILL) every child still running and waits for them: call it in afterEach/afterAll. */
export async function killChildren(): Promise<void> {
  const children = [...running];
  await Promise.all(
    children.map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) {
            running.delete(child);
            return resolve();
          }
          child.once('close', () => resolve());
          child.kill('SIGKILL');
        }),
    ),
  );
}

/** Rejects with a message naming `what` when `promise` takes longer than `ms`. */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A port nothing listens on right now (the service cannot report the one it got for PORT=0). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export interface HttpResponse {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  /** Parsed JSON, or the text when it is not JSON. */
  readonly body: any;
}

export interface HttpRequestOptions {
  readonly method?: string;
  readonly headers?: Record<string, string>;
  readonly body?: string;
  /** Default: a fresh connection closed after the response (no socket outlives the request). */
  readonly agent?: http.Agent | false;
  /** @default 10000 */
  readonly timeoutMs?: number;
}

/** One HTTP request on loopback; rejects with the socket error (its `code`: ECONNREFUSED, ECONNRESET...). */
export function httpRequest(url: string, options: HttpRequestOptions = {}): Promise<HttpResponse> {
  return new Promise((resolve, reject) => {
    const body = options.body === undefined ? undefined : Buffer.from(options.body);
    const req = http.request(
      url,
      {
        method: options.method ?? 'GET',
        agent: options.agent ?? false,
        headers: { ...(body ? { 'content-length': String(body.length) } : {}), ...options.headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown = text;
          try {
            parsed = JSON.parse(text);
          } catch {
            /* not JSON: keep the text */
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: parsed });
        });
      },
    );
    req.setTimeout(options.timeoutMs ?? 10_000, () => req.destroy(Object.assign(new Error('request timed out'), { code: 'ETIMEDOUT' })));
    req.on('error', reject);
    req.end(body);
  });
}

/** The `code` of a request error (`ECONNREFUSED`, `ECONNRESET`, ...), or its message. */
export function errorCode(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : String((error as Error | null)?.message ?? error);
}

/** A webhook body as the upstream sends it. */
export interface WebhookBody {
  readonly uuid: string;
  readonly entityId: number;
  readonly payload: readonly { readonly type: string; readonly timestamp: number; readonly content?: Record<string, unknown> }[];
}

/** POSTs a webhook to a running service. */
export function postWebhook(baseUrl: string, key: string, body: WebhookBody, agent?: http.Agent): Promise<HttpResponse> {
  return httpRequest(`${baseUrl}/webhooks`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': key },
    body: JSON.stringify(body),
    ...(agent ? { agent } : {}),
  });
}

/** What happened to one delivery sent by {@link sendConcurrently}. */
export type SendResult =
  | { readonly delivery: WebhookBody; readonly status: number; readonly body: any }
  | { readonly delivery: WebhookBody; readonly error: string };

export interface SendHooks {
  /** Called as each delivery goes out. */
  readonly onSend?: (delivery: WebhookBody) => void;
  /** Called with each outcome as it happens. */
  readonly onResult?: (result: SendResult) => void;
}

/**
 * Sends deliveries with `concurrency` senders on keep-alive connections, each taking the next one
 * as soon as its last is answered. A sender stops at its first connection error (the service is
 * gone). Resolves with every delivery that was sent, in sending order.
 */
export async function sendConcurrently(
  baseUrl: string,
  key: string,
  deliveries: readonly WebhookBody[],
  concurrency: number,
  hooks: SendHooks = {},
): Promise<SendResult[]> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const results: SendResult[] = [];
  let next = 0;
  const sender = async () => {
    while (next < deliveries.length) {
      const delivery = deliveries[next++]!;
      const index = results.length;
      results.push({ delivery, error: 'pending' });
      hooks.onSend?.(delivery);
      let result: SendResult;
      try {
        const response = await postWebhook(baseUrl, key, delivery, agent);
        result = { delivery, status: response.status, body: response.body };
      } catch (error) {
        result = { delivery, error: errorCode(error) };
      }
      results[index] = result;
      hooks.onResult?.(result);
      if ('error' in result) return;
    }
  };
  try {
    await Promise.all(Array.from({ length: concurrency }, sender));
  } finally {
    agent.destroy();
  }
  return results;
}

export interface ServiceProcess extends Child {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
}

/** Where {@link startService} runs the service from: another layout than the repository's (an image's). */
export interface ServiceLocation {
  /** The working directory. */
  readonly cwd: string;
  /** `node`'s arguments, e.g. `['dist/src/main.js']` (relative to `cwd`). */
  readonly args: readonly string[];
}

/**
 * Starts `node dist/src/main.js` (or `node <location.args>` in `location.cwd`) on a free loopback
 * port and waits until /readyz answers 200.
 */
export async function startService(
  databaseUrl: string,
  env: Record<string, string> = {},
  location?: ServiceLocation,
): Promise<ServiceProcess> {
  const port = await freePort();
  const [script, ...args] = location?.args ?? [SERVICE_ENTRY];
  const child = spawnNode(
    script!,
    args,
    {
      DATABASE_URL: databaseUrl,
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      ...env,
    },
    location?.cwd,
  );
  const url = `http://127.0.0.1:${port}`;
  let gone = false;
  void child.exited.then(() => (gone = true));
  const ready = async () => {
    for (;;) {
      if (gone) throw new Error(`the service exited before it was ready: ${child.stderr()}${child.stdout()}`);
      const status = await httpRequest(`${url}/readyz`, { timeoutMs: 1000 }).then(
        (r) => r.status,
        () => 0,
      );
      if (status === 200) return;
      await sleep(50);
    }
  };
  try {
    await withTimeout(ready(), 15_000, `service on port ${port} to become ready`);
  } catch (error) {
    child.process.kill('SIGKILL');
    throw error;
  }
  return { ...child, url };
}

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `node dist/src/cli/studio.js ...args` against `databaseUrl` (plus `env`) and waits for it to exit. */
export async function runStudioCli(
  databaseUrl: string,
  args: readonly string[],
  timeoutMs = 15_000,
  env: Record<string, string> = {},
): Promise<CliResult> {
  const child = spawnNode(STUDIO_CLI, args, { DATABASE_URL: databaseUrl, ...env });
  const { code } = await withTimeout(child.exited, timeoutMs, `studio ${args.join(' ')}`);
  return { code, stdout: child.stdout(), stderr: child.stderr() };
}

/** Runs `node dist/src/cli/rollups.js ...args` against `databaseUrl` and waits for it to exit. */
export async function runRollupsCli(databaseUrl: string, args: readonly string[], timeoutMs = 30_000): Promise<CliResult> {
  const child = spawnNode(ROLLUPS_CLI, args, { DATABASE_URL: databaseUrl });
  const { code } = await withTimeout(child.exited, timeoutMs, `rollups ${args.join(' ')}`);
  return { code, stdout: child.stdout(), stderr: child.stderr() };
}

/** Runs `node dist/src/cli/reconcile.js ...args` against `databaseUrl` (plus `env`) and waits for it to exit. */
export async function runReconcileCli(
  databaseUrl: string,
  args: readonly string[],
  env: Record<string, string> = {},
  timeoutMs = 60_000,
): Promise<CliResult> {
  const child = spawnNode(RECONCILE_CLI, args, { DATABASE_URL: databaseUrl, ...env });
  const { code } = await withTimeout(child.exited, timeoutMs, `reconcile ${args.join(' ')}`);
  return { code, stdout: child.stdout(), stderr: child.stderr() };
}
