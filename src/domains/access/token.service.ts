import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { Studio } from '../studios/studio.entity.js';
import { ApiToken, TOKEN_ROLES, type TokenRole } from './api-token.entity.js';
import type { Viewer } from './viewer.js';

/** A mistake in what an operator asked for: the message is meant to be shown as it is. */
export class TokenInputError extends Error {
  override name = 'TokenInputError';
}


/** Tokens carry a recognisable prefix (for secret scanners) and 32 random bytes. */
const PREFIX = 'ggt_';
const hash = (token: string) => createHash('sha256').update(token, 'utf8').digest('hex');

export interface CreateTokenInput {
  readonly role: string;
  /** `all`, or studio ids. */
  readonly studios: 'all' | readonly number[];
  readonly name?: string | undefined;
}

/** Minting, listing, revoking and checking API tokens (the `token` command and the API use it). */
export class TokenService {
  /**
   * Lookups under way, by token hash: a reconnect storm sends the same few tokens hundreds of
   * times at once, and they share one query. Only while it runs: a lookup asked after it finished
   * (e.g. after a revocation) reads again.
   */
  private readonly lookups = new Map<string, Promise<ApiToken | null>>();

  constructor(private readonly dataSource: DataSource) {}

  /** Returns the token in clear: the only time it exists outside the caller's hands. */
  async create(input: CreateTokenInput): Promise<{ token: string; record: ApiToken }> {
    if (!(TOKEN_ROLES as readonly string[]).includes(input.role)) {
      throw new TokenInputError(`--role must be one of ${TOKEN_ROLES.join(', ')}, got ${JSON.stringify(input.role)}`);
    }
    let studioIds: number[] | null = null;
    if (input.studios !== 'all') {
      if (input.studios.length === 0) throw new TokenInputError('--studios needs at least one studio id, or "all"');
      studioIds = [...new Set(input.studios)].sort((a, b) => a - b);
      const found = await this.dataSource.getRepository(Studio).count({ where: studioIds.map((id) => ({ id })) });
      if (found !== studioIds.length) throw new TokenInputError(`--studios names a studio that does not exist (known: see npm run studio -- list)`);
    }
    const token = `${PREFIX}${randomBytes(32).toString('base64url')}`;
    const record = await this.dataSource.getRepository(ApiToken).save({
      name: input.name?.trim() || `${input.role} token`,
      role: input.role as TokenRole,
      studioIds,
      tokenHash: hash(token),
      createdAt: new Date(),
      revokedAt: null,
    });
    return { token, record };
  }

  list(): Promise<ApiToken[]> {
    return this.dataSource.getRepository(ApiToken).find({ order: { id: 'ASC' } });
  }

  async revoke(id: number): Promise<ApiToken> {
    const repository = this.dataSource.getRepository(ApiToken);
    const record = await repository.findOne({ where: { id } });
    if (!record) throw new TokenInputError(`no token with id ${id}`);
    record.revokedAt ??= new Date();
    return repository.save(record);
  }

  /** Of the given token ids, those that exist and are not revoked (one query, however many). */
  async validIds(ids: readonly number[]): Promise<Set<number>> {
    if (ids.length === 0) return new Set();
    const rows = await this.dataSource.getRepository(ApiToken).createQueryBuilder('token').select('token.id', 'id')
      .where('token.id IN (:...ids)', { ids: [...ids] }).andWhere('token.revokedAt IS NULL').getRawMany<{ id: number | string }>();
    return new Set(rows.map((row) => Number(row.id)));
  }

  /** The viewer a bearer token stands for, or undefined when it is unknown or revoked. */
  async authenticate(token: string, adminToken: string | undefined): Promise<Viewer | undefined> {
    if (adminToken !== undefined && sameSecret(token, adminToken)) return { role: 'admin', tokenId: null, studioIds: null, personalData: true, expiresAt: null };
    if (!token.startsWith(PREFIX)) return undefined;
    const tokenHash = hash(token);
    let lookup = this.lookups.get(tokenHash);
    if (!lookup) {
      lookup = this.dataSource.getRepository(ApiToken).findOne({ where: { tokenHash } });
      this.lookups.set(tokenHash, lookup);
      const done = () => this.lookups.delete(tokenHash);
      lookup.then(done, done);
    }
    const record = await lookup;
    if (!record || record.revokedAt !== null) return undefined;
    return { role: record.role, tokenId: record.id, studioIds: record.studioIds, personalData: true, expiresAt: null };
  }
}

function sameSecret(a: string, b: string): boolean {
  const left = createHash('sha256').update(a).digest();
  const right = createHash('sha256').update(b).digest();
  return timingSafeEqual(left, right);
}
