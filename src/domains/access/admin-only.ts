import type { GraphQLContext } from '../../api/context.js';
import { ErrorCode, clientError } from '../../api/errors.js';

/** Throws FORBIDDEN unless the viewer is an admin; `field` names what was asked for (`createApiToken`). */
export function requireAdmin(context: Pick<GraphQLContext, 'viewer'>, field: string): void {
  if (context.viewer.role !== 'admin') throw clientError(ErrorCode.FORBIDDEN, `${field} is for admin tokens only`);
}
