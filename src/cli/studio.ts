// First: type-graphql's decorators (the areas' GraphQL types, reached through ingest) need the polyfill loaded.
import 'reflect-metadata';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { loadOpenApiConfig } from '../config.js';
import { confirmActivation } from '../domains/studios/studio-activation.js';
import { StudioInputError, StudioService, canonicalTimeZone, normaliseTenantUrl } from '../domains/studios/studio.service.js';
import type { Studio } from '../domains/studios/studio.entity.js';
import { UsageError, runCli } from './run-cli.js';

const USAGE = `usage: npm run studio -- <command>

  add --name <name> --webhook-key <key> [--tenant-url <url> [--api-key <key>]] [--time-zone <zone>] [--skip-activation]
        register a studio with the keys the upstream e-mailed; studios with the same
        --tenant-url belong to one operator and share its customer and booking ids.
        With --api-key, activation is first confirmed upstream (POST /v1/studios/confirmActivation);
        if that fails, nothing is saved (--skip-activation saves without confirming).
        --time-zone is the studio's IANA zone (e.g. Europe/Berlin): the dashboard shows its times in it
  update <id> [--name <name>] [--api-key <key>] [--tenant-url <url>] [--time-zone <zone>] [--skip-activation]
        rename, replace the Open API key (confirmed upstream again), set the time zone, or set the tenant's URL
  list [--json]            show every studio
  disable <id>             refuse this studio's webhooks (401) from now on
  enable <id>              accept them again

The database is DATABASE_URL (default: the SQLite file data/gymgraph.sqlite).`;

function studioId(raw: string | undefined): number {
  const id = Number(raw);
  if (raw === undefined || !Number.isInteger(id) || id <= 0)
    throw new UsageError(`expected a studio id, got ${JSON.stringify(raw ?? null)}`);
  return id;
}

/**
 * Confirms activation upstream when there is a key (and a URL); the returned text is appended to
 * the command's output. Throws ActivationError (exit 2, nothing saved) when the upstream says no.
 */
async function activate(tenantUrl: string | null | undefined, apiKey: string | null | undefined, skip: boolean): Promise<string> {
  if (!apiKey || !tenantUrl) return '';
  if (skip) return '; Open API activation NOT confirmed (--skip-activation): the upstream may not send webhooks until it is';
  const config = loadOpenApiConfig();
  const logger = pino({ level: 'error', base: { service: 'gymgraph-studio' } }, pino.destination(2));
  await confirmActivation(normaliseTenantUrl(tenantUrl), apiKey, { timeoutMs: config.timeoutMs }, logger);
  return '; Open API activation confirmed upstream';
}

const describeStudio = (s: Studio) =>
  `studio ${s.id} "${s.name}" (${s.status}) tenant ${s.tenantId}${s.tenant?.baseUrl ? ` ${s.tenant.baseUrl}` : ''}${s.timeZone ? ` ${s.timeZone}` : ''}`;

void runCli(
  USAGE,
  async (dataSource, out) => {
    const [command, ...rest] = process.argv.slice(2);
    const studios = new StudioService(dataSource);
    switch (command) {
      case 'add': {
        const { values } = parseArgs({
          args: rest,
          options: {
            name: { type: 'string' },
            'webhook-key': { type: 'string' },
            'tenant-url': { type: 'string' },
            'api-key': { type: 'string' },
            'time-zone': { type: 'string' },
            'skip-activation': { type: 'boolean' },
          },
        });
        if (!values.name) throw new UsageError('add needs --name');
        if (!values['webhook-key']) throw new UsageError('add needs --webhook-key');
        const apiKey = values['api-key'];
        if (apiKey !== undefined && values['tenant-url'] === undefined) {
          throw new UsageError('--api-key needs --tenant-url (the Open API base URL the upstream e-mailed with the key)');
        }
        const input = {
          name: values.name,
          webhookKey: values['webhook-key'],
          tenantUrl: values['tenant-url'],
          apiKey,
          timeZone: values['time-zone'],
        };
        await studios.check(input);
        const activation = await activate(values['tenant-url'], apiKey, values['skip-activation'] ?? false);
        const studio = await studios.add(input);
        out(
          `added studio ${studio.id} "${studio.name}" (tenant ${studio.tenantId}); its webhooks go to POST /webhooks with X-API-KEY${activation}`,
        );
        return;
      }
      case 'update': {
        const { values, positionals } = parseArgs({
          args: rest,
          options: {
            name: { type: 'string' },
            'tenant-url': { type: 'string' },
            'api-key': { type: 'string' },
            'time-zone': { type: 'string' },
            'skip-activation': { type: 'boolean' },
          },
          allowPositionals: true,
        });
        const id = studioId(positionals[0]);
        if (
          values.name === undefined &&
          values['api-key'] === undefined &&
          values['tenant-url'] === undefined &&
          values['time-zone'] === undefined
        ) {
          throw new UsageError('update needs at least one of --name, --api-key, --tenant-url, --time-zone');
        }
        // Checked before any activation upstream, so a mistyped zone costs no round trip.
        if (values['time-zone'] !== undefined) canonicalTimeZone(values['time-zone']);
        const current = await studios.get(id);
        const tenantUrl = values['tenant-url'] === undefined ? current.tenant.baseUrl : normaliseTenantUrl(values['tenant-url']);
        const apiKey = values['api-key'] ?? current.apiKey;
        if (values['api-key'] !== undefined && tenantUrl === null) {
          throw new UsageError(`--api-key needs a tenant URL: studio ${id} has none, add --tenant-url`);
        }
        // A new key, or the key against a new URL, is confirmed before anything is saved.
        const reconfirm =
          apiKey !== null && tenantUrl !== null && (values['api-key'] !== undefined || tenantUrl !== current.tenant.baseUrl);
        const activation = reconfirm ? await activate(tenantUrl, apiKey, values['skip-activation'] ?? false) : '';
        const { studio, changed } = await studios.update(id, {
          name: values.name,
          apiKey: values['api-key'],
          tenantUrl: values['tenant-url'],
          timeZone: values['time-zone'],
        });
        out(`${changed.length > 0 ? `updated ${changed.join(', ')} of` : 'nothing changed for'} ${describeStudio(studio)}${activation}`);
        return;
      }
      case 'list': {
        const { values } = parseArgs({ args: rest, options: { json: { type: 'boolean' } } });
        const all = await studios.list();
        if (values.json) {
          out(
            JSON.stringify(
              all.map((s) => ({
                id: s.id,
                name: s.name,
                status: s.status,
                tenantId: s.tenantId,
                tenantUrl: s.tenant?.baseUrl ?? null,
                hasApiKey: s.apiKey !== null,
                timeZone: s.timeZone,
                createdAt: s.createdAt.toISOString(),
              })),
            ),
          );
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
