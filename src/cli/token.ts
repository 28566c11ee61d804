import { parseArgs } from 'node:util';
import { TokenInputError, TokenService } from '../domains/access/token.service.js';
import { UsageError, runCli } from './run-cli.js';

const USAGE = `usage: npm run token -- <command>

  create --role partner|app --studios <id,id,...|all> [--name <name>]
        mint a bearer token for the GraphQL API; it is printed once and cannot be shown again
  list [--json]          every token (never the secret itself)
  revoke <id>            the token stops working at once

The database is DATABASE_URL (default: the SQLite file data/gymgraph.sqlite).`;

function parseStudios(raw: string | undefined): 'all' | number[] {
  if (raw === undefined) throw new UsageError('create needs --studios <id,id,...|all>');
  if (raw === 'all') return 'all';
  const ids = raw.split(',').map((part) => part.trim());
  if (ids.some((id) => !/^[1-9]\d*$/.test(id))) throw new UsageError(`--studios expects studio ids separated by commas, or "all"; got ${JSON.stringify(raw)}`);
  return ids.map(Number);
}

void runCli(
  USAGE,
  async (dataSource, out) => {
    const [command, ...rest] = process.argv.slice(2);
    const tokens = new TokenService(dataSource);
    switch (command) {
      case 'create': {
        const { values } = parseArgs({ args: rest, options: { role: { type: 'string' }, studios: { type: 'string' }, name: { type: 'string' } } });
        if (!values.role) throw new UsageError('create needs --role partner|app');
        const { token, record } = await tokens.create({ role: values.role, studios: parseStudios(values.studios), name: values.name });
        out(`created token ${record.id} "${record.name}" (${record.role}, studios ${record.studioIds?.join(',') ?? 'all'})`);
        out('store it now, it is not shown again:');
        out(token);
        return;
      }
      case 'list': {
        const { values } = parseArgs({ args: rest, options: { json: { type: 'boolean' } } });
        const all = await tokens.list();
        const rows = all.map((t) => ({
          id: t.id, name: t.name, role: t.role, studios: t.studioIds ?? 'all',
          createdAt: t.createdAt.toISOString(), revokedAt: t.revokedAt?.toISOString() ?? null,
        }));
        if (values.json) out(JSON.stringify(rows));
        else if (rows.length === 0) out('no tokens yet: npm run token -- create --role partner --studios all');
        else for (const r of rows) out(`token ${r.id} "${r.name}" ${r.role} studios ${Array.isArray(r.studios) ? r.studios.join(',') : r.studios}${r.revokedAt ? ` revoked ${r.revokedAt}` : ''}`);
        return;
      }
      case 'revoke': {
        const id = Number(rest[0]);
        if (!Number.isInteger(id) || id <= 0) throw new UsageError(`expected a token id, got ${JSON.stringify(rest[0] ?? null)}`);
        const record = await tokens.revoke(id);
        out(`token ${record.id} "${record.name}" revoked`);
        return;
      }
      default:
        throw new UsageError(command ? `unknown command ${JSON.stringify(command)}` : 'no command given');
    }
  },
  (error) => error instanceof TokenInputError,
);
