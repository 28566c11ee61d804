import {
  GraphQLError,
  Kind,
  createSourceEventStream,
  execute,
  type DocumentNode,
  type ExecutionResult,
  type GraphQLSchema,
  type OperationDefinitionNode,
} from 'graphql';
import { type Viewer, viewerScopeKey } from '../api/viewer.js';
import type { GraphQLContext } from '../api/context.js';
import type { FanoutGroup, FanoutHub } from './fanout-hub.js';
import type { StreamPlan } from './realtime.js';

/** An operation that passed parsing, validation and the limits. */
export interface PreparedOperation {
  readonly query: string;
  readonly document: DocumentNode;
  readonly operation: OperationDefinitionNode;
  readonly operationName: string | null;
  readonly variableValues: Readonly<Record<string, unknown>> | null;
}

export interface SubscriptionPlannerOptions {
  readonly schema: GraphQLSchema;
  readonly hub: FanoutHub;
  /** Root subscription fields whose streams are stateless (their map gives the same answer to every subscriber of a scope). */
  readonly sharedFields: ReadonlySet<string>;
  /** The context a group executes with: the viewer's, with `realtime.plan` set to `plan`. */
  readonly context: (viewer: Viewer, plan: (plan: StreamPlan) => void) => GraphQLContext;
  /** The `payload` of a `next` message for a result (errors formatted and masked). */
  readonly formatResult: (result: ExecutionResult, context: GraphQLContext) => unknown;
  /** The `payload` of an `error` message for errors (formatted and masked). */
  readonly formatErrors: (errors: readonly GraphQLError[], context: GraphQLContext) => unknown;
}

/**
 * Decides which subscriptions share a {@link FanoutGroup}, and builds the groups. Subscriptions
 * share one when they have the same document, operation name and variables, and their tokens the
 * same role and studios: then they would receive the same bytes. The stream is planned by running
 * the root field's `subscribe` once with `realtime.plan` set (arguments parsed and checked as
 * usual); one resumed with `after`, or one whose planning fails, is left to graphql-ws to serve
 * one by one (which reports the errors exactly as for any operation). A group executes with the
 * viewer of the subscription that created it; the others share its role and studios, which is all
 * a resolver may look at (the token id is not).
 */
export class SubscriptionPlanner {
  private readonly planning = new Map<string, Promise<PlannedGroup | undefined>>();

  constructor(private readonly options: SubscriptionPlannerOptions) {}

  /** A subscription of one plain root field (no fragment, no directive) that is shared. */
  shareable(operation: OperationDefinitionNode): boolean {
    if (operation.operation !== 'subscription') return false;
    const [selection, ...more] = operation.selectionSet.selections;
    return (
      more.length === 0 &&
      selection?.kind === Kind.FIELD &&
      (selection.directives?.length ?? 0) === 0 &&
      this.options.sharedFields.has(selection.name.value)
    );
  }

  /** The group serving `prepared` for `viewer`, planned on first use; undefined: serve it alone. */
  async group(viewer: Viewer, prepared: PreparedOperation): Promise<FanoutGroup | undefined> {
    const key = groupKey(viewer, prepared);
    const existing = this.options.hub.group(key);
    if (existing) return existing;
    let planning = this.planning.get(key);
    if (!planning) {
      planning = this.plan(viewer, prepared).finally(() => this.planning.delete(key));
      this.planning.set(key, planning);
    }
    const planned = await planning;
    return planned && this.options.hub.ensureGroup(key, planned);
  }

  private async plan(viewer: Viewer, prepared: PreparedOperation): Promise<PlannedGroup | undefined> {
    const { schema } = this.options;
    let captured: StreamPlan | undefined;
    const context = this.options.context(viewer, (plan) => (captured = plan));
    const args = {
      schema,
      document: prepared.document,
      operationName: prepared.operationName,
      variableValues: prepared.variableValues,
      contextValue: context,
    };
    const source = await createSourceEventStream(args);
    if (!(Symbol.asyncIterator in source)) return undefined; // errors: graphql-ws reports them
    // A field that opened a stream of its own instead of handing its plan: not shareable after all.
    if (!captured) await (source as Partial<AsyncIterator<unknown>>).return?.();
    if (!captured || captured.after !== undefined) return undefined;
    const { selector, map } = captured;
    const { formatResult, formatErrors } = this.options;
    return {
      selector,
      map,
      render: async (root) => JSON.stringify(formatResult(await execute({ ...args, rootValue: root }), context)),
      fail: (error) => {
        const original = error instanceof Error ? error : new Error(String(error));
        return JSON.stringify(formatErrors([new GraphQLError(original.message, { originalError: original })], context));
      },
    };
  }
}

type PlannedGroup = Parameters<FanoutHub['ensureGroup']>[1];

/**
 * A small number per parsed document, standing for its query text in group keys: thousands of
 * groups of one query (a member app's, with each member's variables) then do not each hold a key
 * as long as the query. Documents are cached per query text (graphql/ws.ts), so the same text
 * has the same number while its document is cached; a text parsed again gets a new number, and
 * its newcomers a new group (never a wrong one).
 */
const documentIds = new WeakMap<DocumentNode, number>();
let lastDocumentId = 0;

function groupKey(viewer: Viewer, prepared: PreparedOperation): string {
  let id = documentIds.get(prepared.document);
  if (id === undefined) documentIds.set(prepared.document, (id = ++lastDocumentId));
  return [viewerScopeKey(viewer), prepared.operationName ?? '', id, JSON.stringify(prepared.variableValues ?? {})].join('\u0000');
}
