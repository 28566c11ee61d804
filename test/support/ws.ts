import type { FormattedExecutionResult } from 'graphql';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';

/** `ws://127.0.0.1:<port>/graphql` for a running app's `http://` url. */
export const wsUrl = (httpUrl: string, path = '/graphql') => `${httpUrl.replace(/^http/, 'ws')}${path}`;

/** How a connection ended. */
export interface Closed {
  readonly code: number;
  readonly reason: string;
}

export interface TestClient {
  readonly client: Client;
  /** Resolves with the first close of the socket. */
  readonly closed: Promise<Closed>;
  /** Resolves once `connection_ack` arrived (rejects if it closed first). */
  readonly connected: Promise<void>;
  dispose(): Promise<void>;
}

const open = new Set<TestClient>();

/**
 * A real graphql-ws client (no retries, not lazy) whose token goes in `connection_init` as
 * `authorization`. Pass `token: null` to send no connection params.
 */
export function connect(httpUrl: string, token: string | null, authorization = token === null ? undefined : `Bearer ${token}`): TestClient {
  let onClosed!: (closed: Closed) => void;
  const closed = new Promise<Closed>((resolve) => (onClosed = resolve));
  let onConnected!: () => void;
  let onFailed!: (error: Error) => void;
  const connected = new Promise<void>((resolve, reject) => {
    onConnected = resolve;
    onFailed = reject;
  });
  connected.catch(() => undefined);
  const client = createClient({
    url: wsUrl(httpUrl),
    webSocketImpl: WebSocket,
    lazy: false,
    retryAttempts: 0,
    onNonLazyError: () => undefined,
    ...(authorization === undefined ? {} : { connectionParams: { authorization } }),
    on: {
      connected: () => onConnected(),
      closed: (event) => {
        const { code, reason } = event as { code: number; reason: string };
        onClosed({ code, reason: String(reason) });
        onFailed(new Error(`closed before connection_ack: ${code} ${reason}`));
      },
    },
  });
  const test: TestClient = {
    client,
    closed,
    connected,
    async dispose() {
      open.delete(test);
      await client.dispose();
    },
  };
  open.add(test);
  return test;
}

/** Disposes every client still open: call it in afterEach/afterAll. */
export async function disposeClients(): Promise<void> {
  await Promise.all([...open].map((client) => client.dispose()));
}

/** One subscription's messages as they arrive. */
export interface Subscription<T> {
  readonly results: FormattedExecutionResult<T, unknown>[];
  /** Resolves with the results once there are at least `count` (rejects after `timeoutMs`). */
  take(count: number, timeoutMs?: number): Promise<FormattedExecutionResult<T, unknown>[]>;
  /** Resolves when the server completes the operation (or rejects with its error). */
  readonly done: Promise<void>;
  /** The error the operation ended with, if any. */
  error(): unknown;
  unsubscribe(): void;
}

export function subscribe<T = Record<string, any>>(
  client: TestClient,
  query: string,
  variables: Record<string, unknown> = {},
): Subscription<T> {
  const results: FormattedExecutionResult<T, unknown>[] = [];
  const waiters = new Set<() => void>();
  let failure: unknown;
  let finish!: () => void;
  let fail!: (error: unknown) => void;
  const done = new Promise<void>((resolve, reject) => {
    finish = resolve;
    fail = reject;
  });
  done.catch(() => undefined);
  const unsubscribe = client.client.subscribe<T>(
    { query, variables },
    {
      next: (result) => {
        results.push(result as FormattedExecutionResult<T, unknown>);
        for (const wake of waiters) wake();
      },
      error: (error) => {
        failure = error;
        fail(error);
        for (const wake of waiters) wake();
      },
      complete: () => {
        finish();
        for (const wake of waiters) wake();
      },
    },
  );
  return {
    results,
    done,
    error: () => failure,
    unsubscribe,
    take(count, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (results.length >= count) {
            cleanup();
            resolve(results.slice(0, count));
          }
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(
            new Error(
              `timed out after ${timeoutMs} ms waiting for ${count} results; got ${results.length}: ${JSON.stringify(results).slice(0, 2000)}; error: ${String(failure)}`,
            ),
          );
        }, timeoutMs);
        const cleanup = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
  };
}

/** A bare WebSocket speaking whatever it is told: for protocol errors. */
export interface RawSocket {
  readonly socket: WebSocket;
  readonly messages: any[];
  readonly closed: Promise<Closed>;
  send(message: unknown): void;
  /** Resolves with the first message of `type` (rejects after `timeoutMs`). */
  message(type: string, timeoutMs?: number): Promise<any>;
}

const rawSockets = new Set<WebSocket>();

export async function rawSocket(httpUrl: string, protocol: string | null = 'graphql-transport-ws', path = '/graphql'): Promise<RawSocket> {
  const socket = new WebSocket(wsUrl(httpUrl, path), protocol === null ? [] : [protocol]);
  rawSockets.add(socket);
  const messages: any[] = [];
  const listeners = new Set<() => void>();
  socket.on('message', (data) => {
    messages.push(JSON.parse(String(data)));
    for (const listener of listeners) listener();
  });
  const closed = new Promise<Closed>((resolve) =>
    socket.once('close', (code, reason) => {
      rawSockets.delete(socket);
      resolve({ code, reason: String(reason) });
    }),
  );
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  socket.on('error', () => undefined);
  return {
    socket,
    messages,
    closed,
    send: (message) => socket.send(typeof message === 'string' ? message : JSON.stringify(message)),
    message: (type, timeoutMs = 5000) =>
      new Promise((resolve, reject) => {
        const check = () => {
          const found = messages.find((m) => m.type === type);
          if (found) {
            clearTimeout(timer);
            listeners.delete(check);
            resolve(found);
          }
        };
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(new Error(`no ${type} message within ${timeoutMs} ms; got ${JSON.stringify(messages)}`));
        }, timeoutMs);
        listeners.add(check);
        check();
      }),
  };
}

/** Terminates every raw socket still open. */
export async function closeRawSockets(): Promise<void> {
  await Promise.all(
    [...rawSockets].map(
      (socket) =>
        new Promise<void>((resolve) => {
          socket.once('close', () => resolve());
          socket.terminate();
        }),
    ),
  );
}

/** Polls `condition` every 10 ms until it holds (rejects after `timeoutMs`). */
export async function until(condition: () => boolean | Promise<boolean>, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
