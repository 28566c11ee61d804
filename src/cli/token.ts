// First: type-graphql's decorators (the areas' GraphQL types, reached through ingest) need the polyfill loaded.
import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { parseDuration } from '../config.js';
import type { ApiToken } from '../domains/access/api-token.entity.js';
import { TokenInputError, TokenService, tokenHasPersonalData } from '../domains/access/token.service.js';
import { UsageError, runCli } from './run-cli.js';

const USAGE = `usage: npm run token -- <command>

  create --role partner|app --studios <id,id,...|all> [--name <name>] [--note <text>]
         [--expires <ISO date or time | duration such as 30d, 12h>] [--personal-data]
        mint a bearer token for the GraphQL API; it is printed once and cannot be shown again.
        --personal-data lets a partner token read personal fields (app tokens always may)
  list [--json]          every token (never the secret itself)
  revoke <id>            the token stops working at once
  rotate <id>            a new secret for the token (printed once); the old one stops working at once

The database is DATABASE_URL (default: the SQLite file data/gymgraph.sqlite).`;

/** `--expires`: an ISO date (`2027-01-31`, midnight UTC) or date-time, or a duration from now (`30d`, `12h`, `90m`). */
function parseExpires(raw: string | undefined): Date | null {
  if (raw === undefined) return null;
  if (/^\d+[mhd]$/.test(raw.trim())) {
    const problems: string[] = [];
    const ms = parseDuration('--expires', raw, undefined, problems);
    if (ms === undefined) throw new UsageError(problems.join('; '));
    return new Date(Date.now() + ms);
  }
  const date = /^\d{4}-\d\d-\d\d(T.+)?$/.test(raw.trim()) ? new Date(raw.trim()) : new Date(NaN);
  if (Number.isNaN(date.getTime()))
    throw new UsageError(
      `--expires expects an ISO date or date-time (2027-01-31, 2027-01-31T18:00:00Z) or a duration such as 30d, 12h or 90m; got ${JSON.stringify(raw)}`,
    );
  return date;
}

/** What a token is, in one line's words: `partner, studios 1,2, personal data, expires 2027-01-31T00:00:00.000Z`. */
function describe(record: ApiToken): string {
  const parts = [record.role, `studios ${record.studioIds?.join(',') ?? 'all'}`];
  if (record.role === 'partner' && tokenHasPersonalData(record)) parts.push('personal data');
  if (record.expiresAt) parts.push(`expires ${record.expiresAt.toISOString()}`);
  return parts.join(', ');
}

function parseStudios(raw: string | undefined): 'all' | number[] {
  if (raw === undefined) throw new UsageError('create needs --studios <id,id,...|all>');
  if (raw === 'all') return 'all';
  const ids = raw.split(',').map((part) => part.trim());
  if (ids.some((id) => !/^[1-9]\d*$/.test(id)))
    throw new UsageError(`--studios expects studio ids separated by commas, or "all"; got ${JSON.stringify(raw)}`);
  return ids.map(Number);
}

void runCli(
  USAGE,
  async (dataSource, out) => {
    const [command, ...rest] = process.argv.slice(2);
    const tokens = new TokenService(dataSource);
    switch (command) {
      case 'create': {
        const { values } = parseArgs({
          args: rest,
          options: {
            role: { type: 'string' },
            studios: { type: 'string' },
            name: { type: 'string' },
            note: { type: 'string' },
            expires: { type: 'string' },
            'personal-data': { type: 'boolean' },
          },
        });
        if (!values.role) throw new UsageError('create needs --role partner|app');
        const { token, record } = await tokens.create({
          role: values.role,
          studios: parseStudios(values.studios),
          name: values.name,
          note: values.note,
          expiresAt: parseExpires(values.expires),
          permissions: values['personal-data'] ? ['personalData'] : [],
        });
        out(`created token ${record.id} "${record.name}" (${describe(record)})`);
        out('store it now, it is not shown again:');
        out(token);
        return;
      }
      case 'list': {
        const { values } = parseArgs({ args: rest, options: { json: { type: 'boolean' } } });
        const all = await tokens.list();
        const rows = all.map((t) => ({
          id: t.id,
          name: t.name,
          role: t.role,
          studios: t.studioIds ?? 'all',
          createdAt: t.createdAt.toISOString(),
          revokedAt: t.revokedAt?.toISOString() ?? null,
          note: t.note,
          personalData: tokenHasPersonalData(t),
          expiresAt: t.expiresAt?.toISOString() ?? null,
          rotatedAt: t.rotatedAt?.toISOString() ?? null,
        }));
        if (values.json) out(JSON.stringify(rows));
        else if (rows.length === 0) out('no tokens yet: npm run token -- create --role partner --studios all');
        else {
          for (const [i, r] of rows.entries()) {
            const t = all[i]!;
            const extra = [
              r.role === 'partner' && r.personalData ? ' personal data' : '',
              r.expiresAt ? ` ${t.expiresAt!.getTime() <= Date.now() ? 'expired' : 'expires'} ${r.expiresAt}` : '',
              r.revokedAt ? ` revoked ${r.revokedAt}` : '',
            ].join('');
            out(`token ${r.id} "${r.name}" ${r.role} studios ${Array.isArray(r.studios) ? r.studios.join(',') : r.studios}${extra}`);
          }
        }
        return;
      }
      case 'revoke': {
        const id = Number(rest[0]);
        if (!Number.isInteger(id) || id <= 0) throw new UsageError(`expected a token id, got ${JSON.stringify(rest[0] ?? null)}`);
        const record = await tokens.revoke(id);
        out(`token ${record.id} "${record.name}" revoked`);
        return;
      }
      case 'rotate': {
        const id = Number(rest[0]);
        if (!Number.isInteger(id) || id <= 0) throw new UsageError(`expected a token id, got ${JSON.stringify(rest[0] ?? null)}`);
        const { token, record } = await tokens.rotate(id);
        out(`rotated token ${record.id} "${record.name}" (${describe(record)}): the old secret no longer works`);
        out('store it now, it is not shown again:');
        out(token);
        return;
      }
      default:
        throw new UsageError(command ? `unknown command ${JSON.stringify(command)}` : 'no command given');
    }
  },
  (error) => error instanceof TokenInputError,
);
