import type { DataSource } from 'typeorm';
import type { Viewer } from './viewer.js';
import type { Logger } from '../log.js';
import { Loaders } from './loaders.js';
import { Scope } from './scope.js';

/** What every resolver receives as its context. */
export interface GraphQLContext {
  /** The request's logger, bound to its request id. */
  readonly log: Logger;
  readonly viewer: Viewer;
  /** The viewer's studios, applied inside every query (never filtered afterwards). */
  readonly scope: Scope;
  readonly dataSource: DataSource;
  /** Per-request batching of nested lists and lookups. */
  readonly loaders: Loaders;
}

/** A resolver context. A WebSocket operation's gets what subscriptions need attached by the realtime layer (`withRealtime`). */
export function createContext(log: Logger, viewer: Viewer, dataSource: DataSource): GraphQLContext {
  return { log, viewer, scope: scopeOf(viewer), dataSource, loaders: new Loaders() };
}

/** The SQL scope of `viewer`: its studios, and for a member their customer id (none: nothing of any customer). */
export function scopeOf(viewer: Viewer): Scope {
  if (viewer.role !== 'member') return new Scope(viewer.studioIds);
  return new Scope(viewer.studioIds ?? [], viewer.customerId ?? -1);
}
