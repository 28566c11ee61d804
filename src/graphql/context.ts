import type { Logger } from '../log.js';

/** What every resolver receives as its context. */
export interface GraphQLContext {
  /** The request's logger, bound to its request id. */
  readonly log: Logger;
}
