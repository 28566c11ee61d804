import { parseArgs } from 'node:util';
import { StudioInputError, StudioService } from '../domains/studios/studio.service.js';
import type { Studio } from '../domains/studios/studio.entity.js';
import { UsageError, runCli } from './run-cli.js';

const USAGE = `usage: npm run studio -- <command>

  add --name <name> --webhook-key <key> [--tenant-url <url>] [--api-key <key>]
        register a studio with the keys the upstream e-mailed; studios with the same
        --tenant-url belong to one operator and share its customer and booking ids
  list [--json]            show every studio
  disable <id>             refuse this studio's webhooks (401) from now on
  enable <id>              accept them again

The database is DATABASE_URL (default: the SQLite file data/gymgraph.sqlite).`;

function studioId(raw: string | undefined): number {
  const id = Number(raw);
  if (raw === undefined || !Number.isInteger(id) || id <= 0) throw new UsageError(`expected a studio id, got ${JSON.stringify(raw ?? null)}`);
  return id;
}

const describeStudio = (s: Studio) =>
  `studio ${s.id} "${s.name}" (${s.status}) tenant ${s.tenantId}${s.tenant?.baseUrl ? ` ${s.tenant.baseUrl}` : ''}`;

void runCli(
  USAGE,
  async (dataSource, out) => {
    const [command, ...rest] = process.argv.slice(2);
    const studios = new StudioService(dataSource);
    switch (command) {
      case 'add': {
        const { values } = parseArgs({
          args: rest,
          options: { name: { type: 'string' }, 'webhook-key': { type: 'string' }, 'tenant-url': { type: 'string' }, 'api-key': { type: 'string' } },
        });
        if (!values.name) throw new UsageError('add needs --name');
        if (!values['webhook-key']) throw new UsageError('add needs --webhook-key');
        const studio = await studios.add({
          name: values.name, webhookKey: values['webhook-key'], tenantUrl: values['tenant-url'], apiKey: values['api-key'],
        });
        out(`added studio ${studio.id} "${studio.name}" (tenant ${studio.tenantId}); its webhooks go to POST /webhooks with X-API-KEY`);
        return;
      }
      case 'list': {
        const { values } = parseArgs({ args: rest, options: { json: { type: 'boolean' } } });
        const all = await studios.list();
        if (values.json) {
          out(JSON.stringify(all.map((s) => ({
            id: s.id, name: s.name, status: s.status, tenantId: s.tenantId, tenantUrl: s.tenant?.baseUrl ?? null,
            hasApiKey: s.apiKey !== null, createdAt: s.createdAt.toISOString(),
          }))));
        } else if (all.length === 0) {
          out('no studios yet: npm run studio -- add --name <name> --webhook-key <key>');
        } else {
          for (const s of all) out(describeStudio(s));
        }
        return;
      }
      case 'disable':
      case 'enable': {
        const studio = await studios.setStatus(studioId(rest[0]), command === 'disable' ? 'disabled' : 'active');
        out(`${describeStudio(studio)}`);
        return;
      }
      default:
        throw new UsageError(command ? `unknown command ${JSON.stringify(command)}` : 'no command given');
    }
  },
  (error) => error instanceof StudioInputError,
);
