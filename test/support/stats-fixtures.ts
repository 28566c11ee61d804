/** What the statistics tests share: three Berlin days across the clock change, and a GraphQL call that returns the whole answer. */

/** Berlin Saturday 24th to Monday 26th October 2026, local midnight to local midnight (Sunday has 25 hours). */
export const BERLIN_DAYS = { from: '2026-10-23T22:00:00.000Z', to: '2026-10-26T23:00:00.000Z' };
export const SAT = { label: '2026-10-24', start: '2026-10-23T22:00:00.000Z', end: '2026-10-24T22:00:00.000Z' };
export const SUN = { label: '2026-10-25', start: '2026-10-24T22:00:00.000Z', end: '2026-10-25T23:00:00.000Z' };
export const MON = { label: '2026-10-26', start: '2026-10-25T23:00:00.000Z', end: '2026-10-26T23:00:00.000Z' };

/** Answers are checked by shape in each test. */
export type GraphQLResult = { data?: any; errors?: { message: string; extensions: { code: string } }[] };

/** POSTs one GraphQL request to `url` (`/graphql` of a test server) as `token`; data and errors as sent. */
export async function graphqlAs(
  url: string,
  token: string,
  query: string,
  variables: Record<string, unknown> = {},
): Promise<GraphQLResult> {
  const response = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  return (await response.json()) as GraphQLResult;
}
