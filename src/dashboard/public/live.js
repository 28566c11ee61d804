// The dashboard's line to the public GraphQL API: queries over HTTP, subscriptions over one
// WebSocket (graphql-ws). The socket is ours to reopen: graphql-ws's own retry would resend each
// subscription with the variables it started with, so a resumed `events` stream would replay from
// the first `after` again; we reconnect ourselves and subscribe with the last `seq` seen instead.
import { createClient } from '/dashboard/vendor/graphql-ws/client.js';

/** Raised when the API refuses the token (HTTP 401/403, WebSocket 4403). */
export class TokenRefused extends Error {}

/** True once the API said this token may not read personal fields (names are then never asked again). */
export let personalDataRefused = false;

/** POSTs one operation to /graphql; resolves with `data`, rejects with TokenRefused or the first error. */
export async function query(token, source, variables = {}) {
  const response = await fetch('/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query: source, variables }),
  });
  if (response.status === 401 || response.status === 403) throw new TokenRefused(`token refused (${response.status})`);
  const body = await response.json().catch(() => ({}));
  // A token without the personalData permission gets personal fields as null with this code; the rest came.
  if (body.errors?.some((e) => e.extensions?.code === 'PERSONAL_DATA_FORBIDDEN')) personalDataRefused = true;
  const error = body.errors?.find((e) => e.extensions?.code !== 'PERSONAL_DATA_FORBIDDEN');
  if (error?.extensions?.code === 'UNAUTHENTICATED') throw new TokenRefused(error.message);
  if (error) throw new Error(error.message);
  return body.data;
}

const RETRY_MS = [250, 500, 1000, 2000, 4000];

/**
 * Keeps a socket open and the given subscriptions running on it. `subscriptions()` is asked again at
 * every (re)connection, so each one can carry its current `after`. `onState` hears `live`,
 * `reconnecting` and `unauthorized` (4403: final, no retry).
 */
export function connectLive({ token, subscriptions, onState, onConnected }) {
  let stopped = false;
  let attempt = 0;
  let timer;
  let client;
  const open = () => {
    if (stopped) return;
    const own = createClient({
      url: `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/graphql`,
      connectionParams: { authorization: `Bearer ${token}` },
      lazy: false,
      retryAttempts: 0,
      onNonLazyError: () => undefined, // its default logs to the console; `closed` below handles it
      on: {
        connected: () => {
          if (own !== client) return;
          attempt = 0;
          onState('live');
          onConnected?.();
          for (const { query: source, variables, next } of subscriptions()) {
            own.subscribe(
              { query: source, variables },
              {
                next: (result) => {
                  if (result.errors?.length) console.warn('subscription error', result.errors[0].message);
                  else if (result.data) next(result.data);
                },
                error: () => undefined, // the `closed` handler below decides what follows
                complete: () => undefined,
              },
            );
          }
        },
        closed: (event) => {
          if (own !== client || stopped) return;
          client = undefined;
          own.dispose();
          if (event?.code === 4403) {
            onState('unauthorized');
            return;
          }
          onState('reconnecting');
          timer = setTimeout(open, RETRY_MS[Math.min(attempt++, RETRY_MS.length - 1)]);
        },
      },
    });
    client = own;
  };
  open();
  return () => {
    stopped = true;
    clearTimeout(timer);
    client?.dispose();
    client = undefined;
  };
}
