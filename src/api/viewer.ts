/**
 * Who is asking. Every credential (the bootstrap ADMIN_TOKEN, an API token, a member's JWT) is
 * turned into a Viewer at the edge (HTTP or WebSocket); everything after the edge reads only this.
 *
 * - `admin`: everything, including token management.
 * - `partner`: read-only, scoped to `studioIds`; personal fields only with `personalData`.
 * - `app`: a studio's own front end; scoped to `studioIds`, personal fields included.
 * - `member`: one customer (`customerId`) of `studioIds`: their own records and what a studio shows
 *   the public, nothing of other members.
 */
export type ViewerRole = 'admin' | 'partner' | 'app' | 'member';

export interface Viewer {
  readonly role: ViewerRole;
  /** The API token's id; null for the bootstrap ADMIN_TOKEN and for JWTs. */
  readonly tokenId: number | null;
  /** Visible studio ids; null: every studio. */
  readonly studioIds: readonly number[] | null;
  /**
   * May read personal fields (names, contact details, address, birth date, ...): admin and app
   * always, a partner only with the `personalData` permission, a member only on their own record.
   */
  readonly personalData: boolean;
  /** member only: the upstream customer id this viewer is. */
  readonly customerId?: number | undefined;
  /** When the credential stops being valid (null: never); a socket is closed with 4403 then. */
  readonly expiresAt: Date | null;
}

/** A stable string naming everything that decides what a viewer may see (groups identical subscribers). */
export function viewerScopeKey(viewer: Viewer): string {
  const studios = viewer.studioIds === null ? '*' : [...viewer.studioIds].sort((a, b) => a - b).join(',');
  return [viewer.role, studios, viewer.personalData ? 'pd' : '', viewer.customerId ?? ''].join('|');
}

/** Who is counted and logged: the API token's id, `admin` for ADMIN_TOKEN, `member:<studios>:<customerId>` for a member's JWT. */
export function viewerKey(viewer: Viewer): string {
  if (viewer.tokenId !== null) return String(viewer.tokenId);
  if (viewer.role === 'member') return `member:${viewer.studioIds?.join(',') ?? '*'}:${viewer.customerId ?? ''}`;
  return 'admin';
}

/** What a log line names the viewer by (never the credential): the token id, `admin` or `member`. */
export function viewerLabel(viewer: Viewer): number | 'admin' | 'member' {
  return viewer.tokenId ?? (viewer.role === 'member' ? 'member' : 'admin');
}
