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
  /** IANA time zone, e.g. `Europe/Berlin`. */
  readonly timeZone?: string | undefined;
}

export interface UpdateStudioInput {
  readonly name?: string | undefined;
  readonly apiKey?: string | undefined;
  readonly tenantUrl?: string | undefined;
  readonly timeZone?: string | undefined;
}

/**
 * `europe/berlin` -> `Europe/Berlin`: the zone as this runtime's Intl names it (so what is stored
 * is what every reader's Intl accepts); a zone Intl does not know is refused, naming the option.
 */
export function canonicalTimeZone(raw: string): string {
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone: raw }).resolvedOptions().timeZone;
  } catch {
    throw new StudioInputError(`--time-zone must be an IANA time zone such as Europe/Berlin or UTC, got ${JSON.stringify(raw)}`);
  }
}

function validateApiKey(apiKey: string): void {
  if (apiKey.length < 8 || apiKey.length > 500 || /\s/.test(apiKey)) {
    throw new StudioInputError('--api-key must be 8 to 500 characters with no spaces (paste the Open API key the upstream e-mailed)');
  }
}

/** Upstream webhook keys are long random strings; anything short is a typo or a placeholder. */
export const MIN_WEBHOOK_KEY_LENGTH = 16;

/** `https://Acme.open-api.perfectgym.com/v1/` -> `https://acme.open-api.perfectgym.com/v1` */
export function normaliseTenantUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new StudioInputError(
      `--tenant-url must be an absolute URL such as https://acme.open-api.perfectgym.com/v1, got ${JSON.stringify(raw)}`,
    );
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new StudioInputError(`--tenant-url must be an http(s) URL, got ${JSON.stringify(raw)}`);
  }
  return `${url.protocol}//${url.host.toLowerCase()}${url.pathname.replace(/\/+$/, '')}`;
}

/** Registering, listing and switching studios on and off (the `studio` command uses it). */
export class StudioService {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * Validates an `add` without saving (so that activation upstream is attempted only for a studio
   * that can be saved): throws {@link StudioInputError} as `add` would.
   */
  async check(input: AddStudioInput): Promise<void> {
    const { webhookKeyHash } = this.validate(input);
    const clash = await this.dataSource.getRepository(Studio).findOne({ where: { webhookKeyHash } });
    if (clash)
      throw new StudioInputError(`studio ${clash.id} ("${clash.name}") already uses this webhook key; two studios may not share one`);
  }

  private validate(input: AddStudioInput): {
    name: string;
    tenantUrl: string | undefined;
    webhookKeyHash: string;
    timeZone: string | null;
  } {
    const name = input.name.trim();
    if (name.length === 0 || name.length > 200) throw new StudioInputError('--name must be 1 to 200 characters');
    if (input.webhookKey.length < MIN_WEBHOOK_KEY_LENGTH || /\s/.test(input.webhookKey)) {
      throw new StudioInputError(
        `--webhook-key must be at least ${MIN_WEBHOOK_KEY_LENGTH} characters with no spaces (paste the key the upstream e-mailed)`,
      );
    }
    if (input.apiKey !== undefined) validateApiKey(input.apiKey);
    const tenantUrl = input.tenantUrl === undefined ? undefined : normaliseTenantUrl(input.tenantUrl);
    const timeZone = input.timeZone === undefined ? null : canonicalTimeZone(input.timeZone);
    return { name, tenantUrl, webhookKeyHash: hashWebhookKey(input.webhookKey), timeZone };
  }

  async add(input: AddStudioInput): Promise<Studio> {
    const { name, tenantUrl, webhookKeyHash, timeZone } = this.validate(input);

    return this.dataSource.transaction(async (manager) => {
      const clash = await manager.findOne(Studio, { where: { webhookKeyHash } });
      if (clash)
        throw new StudioInputError(`studio ${clash.id} ("${clash.name}") already uses this webhook key; two studios may not share one`);

      const now = new Date();
      let tenant = tenantUrl === undefined ? null : await manager.findOne(Tenant, { where: { baseUrl: tenantUrl } });
      tenant ??= await manager.save(
        manager.create(Tenant, { name: tenantUrl ? new URL(tenantUrl).host : name, baseUrl: tenantUrl ?? null, createdAt: now }),
      );

      return manager.save(
        manager.create(Studio, {
          name,
          tenantId: tenant.id,
          webhookKeyHash,
          apiKey: input.apiKey ?? null,
          timeZone,
          status: 'active',
          createdAt: now,
          updatedAt: now,
        }),
      );
    });
  }

  /** The studio with its tenant. */
  async get(id: number): Promise<Studio & { tenant: Tenant }> {
    const studio = await this.dataSource.getRepository(Studio).findOne({ where: { id }, relations: { tenant: true } });
    if (!studio || !studio.tenant) throw new StudioInputError(`no studio with id ${id}`);
    return studio as Studio & { tenant: Tenant };
  }

  /**
   * Renames a studio, replaces its Open API key, sets its time zone, or sets its tenant's URL. The URL belongs to the
   * tenant (every studio of the operator uses it), so it is changed in place; it may not be one that
   * another tenant already has, because a studio cannot move between operators: upstream ids are
   * only unique within one, and its records would collide.
   */
  async update(id: number, input: UpdateStudioInput): Promise<{ studio: Studio & { tenant: Tenant }; changed: string[] }> {
    const name = input.name?.trim();
    if (name !== undefined && (name.length === 0 || name.length > 200)) throw new StudioInputError('--name must be 1 to 200 characters');
    if (input.apiKey !== undefined) validateApiKey(input.apiKey);
    const tenantUrl = input.tenantUrl === undefined ? undefined : normaliseTenantUrl(input.tenantUrl);
    const timeZone = input.timeZone === undefined ? undefined : canonicalTimeZone(input.timeZone);

    return this.dataSource.transaction(async (manager) => {
      const studio = await manager.findOne(Studio, { where: { id }, relations: { tenant: true } });
      if (!studio || !studio.tenant) throw new StudioInputError(`no studio with id ${id}`);
      const changed: string[] = [];
      if (tenantUrl !== undefined && tenantUrl !== studio.tenant.baseUrl) {
        const other = await manager.findOne(Tenant, { where: { baseUrl: tenantUrl } });
        if (other) {
          throw new StudioInputError(
            `tenant ${other.id} already has ${tenantUrl}; a studio cannot move to another operator (upstream ids would collide): register it there with studio add`,
          );
        }
        studio.tenant.baseUrl = tenantUrl;
        await manager.save(studio.tenant);
        changed.push('tenant URL');
      }
      if (name !== undefined && name !== studio.name) {
        studio.name = name;
        changed.push('name');
      }
      if (input.apiKey !== undefined && input.apiKey !== studio.apiKey) {
        studio.apiKey = input.apiKey;
        changed.push('Open API key');
      }
      if (timeZone !== undefined && timeZone !== studio.timeZone) {
        studio.timeZone = timeZone;
        changed.push('time zone');
      }
      if (changed.length > 0) {
        studio.updatedAt = new Date();
        await manager.save(studio);
      }
      return { studio: studio as Studio & { tenant: Tenant }, changed };
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
