import type { DataSource } from 'typeorm';
import { Studio, type StudioStatus } from './studio.entity.js';
import { Tenant } from './tenant.entity.js';
import { hashWebhookKey } from './webhook-key.js';

/** A mistake in what an operator asked for: the message is meant to be shown as it is. */
export class StudioInputError extends Error {
  override name = 'StudioInputError';
}

export interface AddStudioInput {
  readonly name: string;
  readonly webhookKey: string;
  /** The tenant's Open API base URL; studios with the same URL share upstream ids. */
  readonly tenantUrl?: string | undefined;
  readonly apiKey?: string | undefined;
}

/** Upstream webhook keys are long random strings; anything short is a typo or a placeholder. */
export const MIN_WEBHOOK_KEY_LENGTH = 16;

/** `https://Acme.open-api.perfectgym.com/v1/` -> `https://acme.open-api.perfectgym.com/v1` */
export function normaliseTenantUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new StudioInputError(`--tenant-url must be an absolute URL such as https://acme.open-api.perfectgym.com/v1, got ${JSON.stringify(raw)}`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new StudioInputError(`--tenant-url must be an http(s) URL, got ${JSON.stringify(raw)}`);
  }
  return `${url.protocol}//${url.host.toLowerCase()}${url.pathname.replace(/\/+$/, '')}`;
}

/** Registering, listing and switching studios on and off (the `studio` command uses it). */
export class StudioService {
  constructor(private readonly dataSource: DataSource) {}

  async add(input: AddStudioInput): Promise<Studio> {
    const name = input.name.trim();
    if (name.length === 0 || name.length > 200) throw new StudioInputError('--name must be 1 to 200 characters');
    if (input.webhookKey.length < MIN_WEBHOOK_KEY_LENGTH || /\s/.test(input.webhookKey)) {
      throw new StudioInputError(`--webhook-key must be at least ${MIN_WEBHOOK_KEY_LENGTH} characters with no spaces (paste the key the upstream e-mailed)`);
    }
    const tenantUrl = input.tenantUrl === undefined ? undefined : normaliseTenantUrl(input.tenantUrl);
    const webhookKeyHash = hashWebhookKey(input.webhookKey);

    return this.dataSource.transaction(async (manager) => {
      const clash = await manager.findOne(Studio, { where: { webhookKeyHash } });
      if (clash) throw new StudioInputError(`studio ${clash.id} ("${clash.name}") already uses this webhook key; two studios may not share one`);

      const now = new Date();
      let tenant = tenantUrl === undefined ? null : await manager.findOne(Tenant, { where: { baseUrl: tenantUrl } });
      tenant ??= await manager.save(manager.create(Tenant, { name: tenantUrl ? new URL(tenantUrl).host : name, baseUrl: tenantUrl ?? null, createdAt: now }));

      return manager.save(
        manager.create(Studio, {
          name, tenantId: tenant.id, webhookKeyHash, apiKey: input.apiKey ?? null, status: 'active', createdAt: now, updatedAt: now,
        }),
      );
    });
  }

  list(): Promise<Studio[]> {
    return this.dataSource.getRepository(Studio).find({ relations: { tenant: true }, order: { id: 'ASC' } });
  }

  async setStatus(id: number, status: StudioStatus): Promise<Studio> {
    const repository = this.dataSource.getRepository(Studio);
    const studio = await repository.findOne({ where: { id } });
    if (!studio) throw new StudioInputError(`no studio with id ${id}`);
    studio.status = status;
    studio.updatedAt = new Date();
    return repository.save(studio);
  }
}
