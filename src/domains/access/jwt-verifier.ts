import { createPublicKey, type KeyObject } from 'node:crypto';
import { createRemoteJWKSet, decodeProtectedHeader, errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import type { JwtConfig } from '../../config.js';
import type { Viewer } from '../../api/viewer.js';

/**
 * A credential that was understood and refused (expired, wrong issuer, bad signature, a role a JWT
 * may not carry...): the message is shown to the caller as it is (HTTP 401, WebSocket 4403).
 */
export class CredentialRefused extends Error {
  override name = 'CredentialRefused';
}

/** The identity provider's keys could not be fetched: neither the token's fault nor ours to hide (HTTP 503). */
export class KeysUnavailable extends Error {
  override name = 'KeysUnavailable';
}

/**
 * Three base64url parts separated by dots, the first a JSON object (`eyJ` is `{"` encoded): what a
 * JWS in compact form looks like (our API tokens start with `ggt_`).
 */
export function looksLikeJwt(token: string): boolean {
  return /^eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(token);
}

/** The only role a JWT may carry: a JWT never grants admin, partner or app access. */
const JWT_ROLE = 'member';
/** Most studios one member token may name. */
const MAX_STUDIOS = 100;
const ASYMMETRIC = ['RS256', 'ES256'] as const;

/**
 * Verifies member JWTs (jose: signature, `alg` allow-list, `iss`, `aud`, `exp`/`nbf` with a clock
 * skew) and turns their claims into a member {@link Viewer}. Keys: a remote JWKS (cached; an unknown
 * `kid` fetches it again, at most once per cooldown) or one PEM key, and optionally an HS256 secret.
 * An `alg` is checked against the key that would verify it, so an HS256 token signed with the public
 * key as its secret is refused, and `alg: none` never verifies.
 */
export class JwtVerifier {
  private readonly asymmetric: JWTVerifyGetKey | KeyObject | undefined;
  private readonly asymmetricAlgs: readonly string[];
  private readonly secret: Uint8Array | undefined;

  constructor(private readonly config: JwtConfig) {
    if (config.jwksUrl !== undefined) {
      this.asymmetric = createRemoteJWKSet(new URL(config.jwksUrl), { cooldownDuration: config.jwksCooldownMs, cacheMaxAge: 10 * 60_000 });
      this.asymmetricAlgs = ASYMMETRIC;
    } else if (config.publicKey !== undefined) {
      const key = createPublicKey(config.publicKey);
      this.asymmetric = key;
      this.asymmetricAlgs = key.asymmetricKeyType === 'rsa' ? ['RS256'] : ['ES256'];
    } else {
      this.asymmetricAlgs = [];
    }
    this.secret = config.secret === undefined ? undefined : new TextEncoder().encode(config.secret);
  }

  /** The member `token` stands for; throws {@link CredentialRefused} (or {@link KeysUnavailable}) otherwise. */
  async verify(token: string): Promise<Viewer> {
    let alg: unknown;
    try {
      alg = decodeProtectedHeader(token).alg;
    } catch {
      throw new CredentialRefused('malformed JWT: its header is not base64url-encoded JSON');
    }
    const options = {
      issuer: this.config.issuer,
      audience: this.config.audience,
      clockTolerance: this.config.clockSkewS,
      requiredClaims: ['exp'],
    };
    let payload: JWTPayload;
    try {
      if (alg === 'HS256' && this.secret) {
        ({ payload } = await jwtVerify(token, this.secret, { ...options, algorithms: ['HS256'] }));
      } else if (typeof alg === 'string' && this.asymmetricAlgs.includes(alg) && this.asymmetric) {
        // Two calls so that TypeScript picks the overload for a key set or a single key.
        const verifyOptions = { ...options, algorithms: [...this.asymmetricAlgs] };
        ({ payload } =
          typeof this.asymmetric === 'function'
            ? await jwtVerify(token, this.asymmetric, verifyOptions)
            : await jwtVerify(token, this.asymmetric, verifyOptions));
      } else {
        const accepted = [...this.asymmetricAlgs, ...(this.secret ? ['HS256'] : [])];
        throw new CredentialRefused(`JWT alg ${JSON.stringify(alg)} is not accepted here (accepted: ${accepted.join(', ')})`);
      }
    } catch (error) {
      throw refusal(error);
    }
    return this.viewer(payload);
  }

  private viewer(payload: JWTPayload): Viewer {
    const { claims } = this.config;
    const role = claim(payload, claims.role);
    if (role !== JWT_ROLE) {
      throw new CredentialRefused(
        `JWT claim ${claims.role} must be "${JWT_ROLE}" (a JWT stands for one member; use an API token for other roles), got ${JSON.stringify(role)}`,
      );
    }
    const studios = claim(payload, claims.studioIds);
    if (!Array.isArray(studios) || studios.length === 0 || studios.length > MAX_STUDIOS) {
      throw new CredentialRefused(
        `JWT claim ${claims.studioIds} must be a list of 1 to ${MAX_STUDIOS} studio ids, got ${JSON.stringify(studios)}`,
      );
    }
    const studioIds = [...new Set(studios.map((value) => id(value, claims.studioIds)))].sort((a, b) => a - b);
    const customerId = id(claim(payload, claims.customerId), claims.customerId);
    return { role: 'member', tokenId: null, studioIds, personalData: true, customerId, expiresAt: new Date(payload.exp! * 1000) };
  }
}

/**
 * The claim named `name` in `payload`: a top-level claim of that exact name, else a path through
 * nested objects split at a dot (`https://example.com/claims.role` is `role` inside the claim
 * `https://example.com/claims`).
 */
export function claim(payload: Readonly<Record<string, unknown>>, name: string): unknown {
  if (Object.hasOwn(payload, name)) return payload[name];
  for (let dot = name.indexOf('.'); dot !== -1; dot = name.indexOf('.', dot + 1)) {
    const head = payload[name.slice(0, dot)];
    if (Object.hasOwn(payload, name.slice(0, dot)) && head !== null && typeof head === 'object' && !Array.isArray(head)) {
      return claim(head as Record<string, unknown>, name.slice(dot + 1));
    }
  }
  return undefined;
}

/** An upstream or studio id in a claim: a positive safe integer, as a number or a digit string. */
function id(value: unknown, name: string): number {
  const number = typeof value === 'string' && /^\d{1,16}$/.test(value) ? Number(value) : value;
  if (typeof number !== 'number' || !Number.isSafeInteger(number) || number <= 0) {
    throw new CredentialRefused(`JWT claim ${name} must hold positive integer ids, got ${JSON.stringify(value)}`);
  }
  return number;
}

/** jose's error as what the caller is told. */
function refusal(error: unknown): Error {
  if (error instanceof CredentialRefused) return error;
  if (error instanceof errors.JWTExpired) return new CredentialRefused('JWT expired');
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === 'nbf') return new CredentialRefused('JWT not yet valid (nbf)');
    return new CredentialRefused(`JWT claim ${error.claim} refused: ${error.message}`);
  }
  if (error instanceof errors.JWKSNoMatchingKey) return new CredentialRefused('JWT kid names no key of the JWKS');
  if (error instanceof errors.JWKSTimeout || error instanceof errors.JWKSInvalid)
    return new KeysUnavailable(`could not read the JWKS: ${error.message}`);
  if (error instanceof errors.JWSSignatureVerificationFailed) return new CredentialRefused('JWT signature does not verify');
  if (error instanceof errors.JOSEError) return new CredentialRefused(`JWT refused: ${error.message}`);
  // A failed fetch of the JWKS (connection refused, DNS): a TypeError from fetch.
  return new KeysUnavailable(`could not fetch the JWKS: ${(error as Error).message}`);
}
