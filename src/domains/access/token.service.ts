import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { SqlReader } from '../../db/sql-reader.js';
import { TABLES } from '../../db/tables.js';
import { Studio } from '../studios/studio.entity.js';
import { ApiToken, TOKEN_PERMISSIONS, TOKEN_ROLES, type TokenPermission, type TokenRole } from './api-token.entity.js';
import type { Viewer } from '../../api/viewer.js';

/**
 * A mistake in what an operator asked for: the message is meant to be shown as it is. `field` names
 * what was wrong in the caller's own words (`--studios` for the CLI, `input.studioIds` for the API).
 */
export class TokenInputError extends Error {
  override name = 'TokenInputError';
  constructor(
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

/** An id that names no token (the API answers NOT_FOUND, the CLI exits 2). */
export class TokenNotFoundError extends TokenInputError {
  override name = 'TokenNotFoundError';
  constructor(id: number) {
    super(`no token with id ${id}`, 'id');
  }
}

/** A known token presented after its expiry: refused like an unknown one, but the caller is told why. */
export class TokenExpiredError extends Error {
  override name = 'TokenExpiredError';
  constructor(readonly expiresAt: Date) {
    super(`token expired at ${expiresAt.toISOString()}: ask for a new one`);
  }
}

/** Tokens carry a recognisable prefix (for secret scanners) and 32 random bytes. */
const PREFIX = 'ggt_';
/** The SHA-256 digest (hex) of a token: what is stored, and how an open socket knows which secret it used. */
export const tokenDigest = (token: string) => createHash('sha256').update(token, 'utf8').digest('hex');
const hash = tokenDigest;
const newSecret = () => `${PREFIX}${randomBytes(32).toString('base64url')}`;

/** How the inputs of `create` are named to the caller: flags for the CLI, input fields for the API. */
export interface TokenFieldNames {
  readonly role: string;
  readonly studios: string;
  readonly expiresAt: string;
  readonly name: string;
  readonly note: string;
  readonly permissions: string;
}

export const CLI_FIELD_NAMES: TokenFieldNames = {
  role: '--role',
  studios: '--studios',
  expiresAt: '--expires',
  name: '--name',
  note: '--note',
  permissions: '--personal-data',
};

export interface CreateTokenInput {
  readonly role: string;
  /** `all`, or studio ids. */
  readonly studios: 'all' | readonly number[];
  readonly name?: string | null | undefined;
  readonly note?: string | null | undefined;
  /** When the token stops working; absent or null: never. Must be in the future. */
  readonly expiresAt?: Date | null | undefined;
  readonly permissions?: readonly string[] | null | undefined;
}

const MAX_NAME = 200;
const MAX_NOTE = 1000;

/** May the holder of `record` read personal fields: app tokens by their role, partner tokens with the permission. */
export function tokenHasPersonalData(record: Pick<ApiToken, 'role' | 'permissions'>): boolean {
  return record.role === 'app' || (record.permissions ?? []).includes('personalData');
}

/** True once `record` can no longer be used: revoked, or past its expiry. */
export function tokenInactive(record: Pick<ApiToken, 'revokedAt' | 'expiresAt'>, now = Date.now()): boolean {
  return record.revokedAt !== null || (record.expiresAt !== null && record.expiresAt.getTime() <= now);
}

/** Minting, listing, revoking, rotating and checking API tokens (the `token` command and the API use it). */
/** Ids per statement of {@link TokenService.validIds}. */
const VALID_IDS_SLICE = 1000;

export class TokenService {
  /**
   * Lookups under way, by token hash: a reconnect storm sends the same few tokens hundreds of
   * times at once, and they share one query. Only while it runs: a lookup asked after it finished
   * (e.g. after a revocation) reads again.
   */
  private readonly lookups = new Map<string, Promise<ApiToken | null>>();

  constructor(private readonly dataSource: DataSource) {}

  /** Returns the token in clear: the only time it exists outside the caller's hands. */
  async create(input: CreateTokenInput, names: TokenFieldNames = CLI_FIELD_NAMES): Promise<{ token: string; record: ApiToken }> {
    if (!(TOKEN_ROLES as readonly string[]).includes(input.role)) {
      throw new TokenInputError(`${names.role} must be one of ${TOKEN_ROLES.join(', ')}, got ${JSON.stringify(input.role)}`, names.role);
    }
    let studioIds: number[] | null = null;
    if (input.studios !== 'all') {
      if (input.studios.length === 0) throw new TokenInputError(`${names.studios} needs at least one studio id, or "all"`, names.studios);
      studioIds = [...new Set(input.studios)].sort((a, b) => a - b);
      const found = await this.dataSource.getRepository(Studio).count({ where: studioIds.map((id) => ({ id })) });
      if (found !== studioIds.length)
        throw new TokenInputError(`${names.studios} names a studio that does not exist (known: see npm run studio -- list)`, names.studios);
    }
    const expiresAt = input.expiresAt ?? null;
    if (expiresAt !== null && (Number.isNaN(expiresAt.getTime()) || expiresAt.getTime() <= Date.now())) {
      throw new TokenInputError(
        `${names.expiresAt} must be in the future, got ${Number.isNaN(expiresAt.getTime()) ? 'an invalid date' : expiresAt.toISOString()}`,
        names.expiresAt,
      );
    }
    const name = input.name?.trim() || `${input.role} token`;
    if (name.length > MAX_NAME)
      throw new TokenInputError(`${names.name} may have at most ${MAX_NAME} characters, got ${name.length}`, names.name);
    const note = input.note?.trim() || null;
    if (note !== null && note.length > MAX_NOTE)
      throw new TokenInputError(`${names.note} may have at most ${MAX_NOTE} characters, got ${note.length}`, names.note);
    const permissions = [...new Set(input.permissions ?? [])];
    const unknown = permissions.find((p) => !(TOKEN_PERMISSIONS as readonly string[]).includes(p));
    if (unknown !== undefined)
      throw new TokenInputError(
        `${names.permissions}: unknown permission ${JSON.stringify(unknown)} (known: ${TOKEN_PERMISSIONS.join(', ')})`,
        names.permissions,
      );
    const token = newSecret();
    const record = await this.dataSource.getRepository(ApiToken).save({
      name,
      note,
      role: input.role as TokenRole,
      studioIds,
      permissions: permissions as TokenPermission[],
      tokenHash: hash(token),
      createdAt: new Date(),
      expiresAt,
      rotatedAt: null,
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
    if (!record) throw new TokenNotFoundError(id);
    record.revokedAt ??= new Date();
    return repository.save(record);
  }

  /**
   * A new secret for the token, everything else kept (id, role, studios, permissions, expiry). The
   * old secret is refused from the next request on; sockets it opened are closed at the next recheck.
   * A revoked or expired token cannot be rotated (create a new one).
   */
  async rotate(id: number): Promise<{ token: string; record: ApiToken }> {
    const repository = this.dataSource.getRepository(ApiToken);
    const record = await repository.findOne({ where: { id } });
    if (!record) throw new TokenNotFoundError(id);
    if (record.revokedAt !== null) throw new TokenInputError(`token ${id} is revoked: create a new one instead`, 'id');
    if (tokenInactive(record))
      throw new TokenInputError(`token ${id} expired at ${record.expiresAt!.toISOString()}: create a new one instead`, 'id');
    const token = newSecret();
    record.tokenHash = hash(token);
    record.rotatedAt = new Date();
    return { token, record: await repository.save(record) };
  }

  /**
   * Of the given token ids, those still usable (exist, not revoked, not expired), each with the
   * digest of its current secret (another once rotated): one query, however many.
   */
  async validIds(ids: readonly number[]): Promise<Map<number, string>> {
    // Through SqlReader (a worker thread on SQLite) and in slices: with 10,000 member sockets open,
    // one statement of 10,000 ids on the main connection held the event loop for tens of ms.
    const reader = SqlReader.of(this.dataSource);
    const valid = new Map<number, string>();
    for (let start = 0; start < ids.length; start += VALID_IDS_SLICE) {
      const params = reader.params();
      const list = params.list(ids.slice(start, start + VALID_IDS_SLICE));
      const now = params.add(Date.now());
      const rows = await reader.all<{ id: number; tokenHash: string }>(
        `SELECT "id", "tokenHash" FROM "${TABLES.api_tokens}" WHERE "id" IN ${list} AND "revokedAt" IS NULL AND ("expiresAt" IS NULL OR "expiresAt" > ${now})`,
        params.values,
      );
      for (const row of rows) valid.set(Number(row.id), row.tokenHash);
    }
    return valid;
  }

  /**
   * The tokens revoked or rotated at or after `since` (ms since the epoch), each with the digest of
   * its current secret, or null when it is no longer usable: what open connections must hear of
   * between two full checks ({@link validIds}). A scan of the tokens table, which is small; no list of ids.
   */
  async changedSince(since: number): Promise<Map<number, string | null>> {
    const reader = SqlReader.of(this.dataSource);
    const params = reader.params();
    const revoked = params.add(since);
    const rotated = params.add(since);
    const rows = await reader.all<{ id: number; tokenHash: string; revokedAt: number | null; expiresAt: number | null }>(
      `SELECT "id", "tokenHash", "revokedAt", "expiresAt" FROM "${TABLES.api_tokens}" WHERE "revokedAt" >= ${revoked} OR "rotatedAt" >= ${rotated}`,
      params.values,
    );
    const now = Date.now();
    return new Map(
      rows.map((row) => {
        const at = (ms: number | null) => (ms === null ? null : new Date(Number(ms)));
        const record = { revokedAt: at(row.revokedAt), expiresAt: at(row.expiresAt) };
        return [Number(row.id), tokenInactive(record, now) ? null : row.tokenHash];
      }),
    );
  }

  /**
   * The viewer a bearer token stands for, or undefined when it is unknown or revoked.
   * @throws TokenExpiredError for a known token past its expiry (refused too, with the reason).
   */
  async authenticate(token: string, adminToken: string | undefined): Promise<Viewer | undefined> {
    if (adminToken !== undefined && sameSecret(token, adminToken))
      return { role: 'admin', tokenId: null, studioIds: null, personalData: true, expiresAt: null };
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
    if (tokenInactive(record)) throw new TokenExpiredError(record.expiresAt!);
    return {
      role: record.role,
      tokenId: record.id,
      studioIds: record.studioIds,
      personalData: tokenHasPersonalData(record),
      expiresAt: record.expiresAt,
    };
  }
}

function sameSecret(a: string, b: string): boolean {
  const left = createHash('sha256').update(a).digest();
  const right = createHash('sha256').update(b).digest();
  return timingSafeEqual(left, right);
}
