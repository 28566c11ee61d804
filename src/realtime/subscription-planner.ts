import {
  BREAK,
  GraphQLError,
  Kind,
  createSourceEventStream,
  defaultFieldResolver,
  execute,
  visit,
  type DocumentNode,
  type ExecutionResult,
  type GraphQLFieldResolver,
  type GraphQLSchema,
  type OperationDefinitionNode,
} from 'graphql';
import { compileQuery, isCompiledQuery } from 'graphql-jit';
import { type Viewer, viewerScopeKey } from '../api/viewer.js';
import type { GraphQLContext } from '../api/context.js';
import type { FanoutGroup, FanoutHub } from './fanout-hub.js';
import { parseEventCursor } from './log-reader.js';
import type { StreamPlan } from './realtime.js';
import type { ReplayRenderer } from './replay-renders.js';

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
  /**
   * Root subscription fields whose streams are stateless (their map gives the same answer to every
   * subscriber of a scope), and whose resolvers give each event back as it is: a planned group's
   * events skip them (see {@link resolveToSourceWhenPlanned}).
   */
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
 * usual); one whose planning fails is left to graphql-ws to serve one by one (which reports the
 * errors exactly as for any operation). One resumed with `after` gets a {@link PlannedReplay}: its
 * stream is its own (each replay reads the log from its position), but the rendering of each event
 * is shared by every resume of the same key (replay-renders.ts). A group executes with the
 * viewer of the subscription that created it; the others share its role and studios, which is all
 * a resolver may look at (the token id is not).
 */
export class SubscriptionPlanner {
  private readonly planning = new Map<string, Promise<Planned | undefined>>();
  private readonly replays = new Map<string, PlannedReplay>();

  constructor(private readonly options: SubscriptionPlannerOptions) {
    resolveToSourceWhenPlanned(options.schema, options.sharedFields);
  }

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

  /**
   * How `prepared` is served for `viewer`: the group of a live subscription (planned on first use),
   * the replay group of a resumed one (`after`: its events are rendered once for every replay of
   * the same shape and scope, replay-renders.ts), or undefined: serve it alone.
   */
  async group(viewer: Viewer, prepared: PreparedOperation): Promise<FanoutGroup | PlannedReplay | undefined> {
    const key = groupKey(viewer, prepared);
    const existing = this.options.hub.group(key);
    if (existing) return existing;
    // Resumes that differ only in the variable given as `after` are one replay group: a storm's
    // clients resume from their own last events, and an event's payload does not depend on it.
    const afterVariable = afterOnlyVariable(prepared);
    const cursor = afterVariable === undefined ? undefined : prepared.variableValues?.[afterVariable];
    const replayKey = cursor == null ? key : groupKey(viewer, prepared, afterVariable);
    const known = this.replays.get(replayKey);
    if (known) {
      if (cursor == null) return known;
      const after = typeof cursor === 'string' ? seqOf(cursor) : undefined;
      // An `after` that does not parse is planned as usual, and its error reported by graphql-ws.
      if (after !== undefined) return { ...known, after };
    }
    let planning = this.planning.get(key);
    if (!planning) {
      planning = this.plan(viewer, prepared).finally(() => this.planning.delete(key));
      this.planning.set(key, planning);
    }
    const planned = await planning;
    if (!planned) return undefined;
    if (planned.after === undefined) return this.options.hub.ensureGroup(key, planned);
    // The plan is the same for every resume of this shape and scope (its arguments were checked
    // with the first; only `after` differs): remembered, so a storm of them is planned once.
    const replay: PlannedReplay = { ...planned, key: replayKey, after: planned.after };
    if (!this.replays.has(replayKey)) {
      this.replays.set(replayKey, replay);
      if (this.replays.size > MAX_REPLAY_PLANS) this.replays.delete(this.replays.keys().next().value!);
    }
    return replay;
  }

  private async plan(viewer: Viewer, prepared: PreparedOperation): Promise<Planned | undefined> {
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
    if (!captured) return undefined;
    const { selector, map, after, records } = captured;
    plannedContexts.add(context);
    const { formatResult, formatErrors } = this.options;
    const format = (result: ExecutionResult) => JSON.stringify(formatResult(result, context));
    // The closures below hold what a group keeps: not `prepared` (held, it would keep its cost entry
    // alive too: +0.26 KB per member subscription, measured with bench/fanout.ts --members).
    const run = compiledOperation(schema, prepared);
    return {
      selector,
      after,
      map,
      records,
      // Synchronous when the selection's resolvers are: a replayed event then costs no extra turn.
      render: (root) => {
        const result = run ? run(root, context, args.variableValues) : execute({ ...args, rootValue: root });
        return isPromise(result) ? result.then(format) : format(result);
      },
      fail: (error) => {
        const original = error instanceof Error ? error : new Error(String(error));
        return JSON.stringify(formatErrors([new GraphQLError(original.message, { originalError: original })], context));
      },
    };
  }
}

/** The contexts of planned groups: their `subscribe` passed (see {@link resolveToSourceWhenPlanned}). */
const plannedContexts = new WeakSet<object>();
/** Schemas whose shared root fields {@link resolveToSourceWhenPlanned} has wrapped. */
const sourceResolving = new WeakSet<GraphQLSchema>();

/**
 * Makes each of `fields` (root subscription fields) resolve an event to the event itself for the
 * context of a planned group, without the resolvers in between. Their resolvers give their root
 * back (`payload(@Root() payload) { return payload; }`, event-type-fields.subscription.ts; for
 * `events`, events.subscription.ts, type-graphql hands over an `EventRecord` copy with the same
 * fields) once the schema's guards (studio scope, member access, personal data) have checked the
 * arguments and the viewer: the checks `subscribe` made, with the same arguments and the same
 * context, when the group was planned, so they cannot decide otherwise (a group renders its own
 * document with its own variables only). test/subscriptions-fanout.test.ts runs every one of them
 * for every role. Skipped, they cost nothing per event; run (type-graphql's handler makes the
 * arguments into a class instance each time), they were a third of a member event's render in a
 * profile of the running server (bench/README.md, "Member apps"). Every other context (a
 * subscription served alone, a query) goes through the resolvers as before. Once per schema.
 */
function resolveToSourceWhenPlanned(schema: GraphQLSchema, fields: ReadonlySet<string>): void {
  if (sourceResolving.has(schema)) return;
  sourceResolving.add(schema);
  const rootFields = schema.getSubscriptionType()?.getFields() ?? {};
  for (const name of fields) {
    const field = rootFields[name];
    if (!field) continue;
    const resolve: GraphQLFieldResolver<unknown, unknown> = field.resolve ?? defaultFieldResolver;
    // Made once per schema, so the old generation would do; named all the same, as this path's
    // lint rule asks of every closure stored in a property (eslint.config.mjs).
    const sourceWhenPlanned: GraphQLFieldResolver<unknown, unknown> = (source, args, context, info) =>
      plannedContexts.has(context as object) ? source : resolve(source, args, context, info);
    field.resolve = sourceWhenPlanned;
  }
}

/** An operation compiled for one schema: (root value, context, variables) -> the result. */
type CompiledOperation = (
  root: unknown,
  context: unknown,
  variables: Readonly<Record<string, unknown>> | null,
) => ExecutionResult | Promise<ExecutionResult>;

/** Per schema and document: how many groups it planned, and per operation name its compiled form (null: not compiled). */
const compiledOperations = new WeakMap<GraphQLSchema, WeakMap<DocumentNode, CompiledDocument>>();
interface CompiledDocument {
  plans: number;
  readonly operations: Map<string, CompiledOperation | null>;
}

/**
 * The selection of a shared subscription compiled into a JavaScript function by graphql-jit, once
 * per schema, document and operation name: every group of the same document (a member app's: one
 * per member, each with its own variables) runs the same function, which V8 optimises once. A
 * group executes its selection for every event it takes, and graphql-js's `execute` builds the
 * execution context and collects the fields anew each time; the compiled function has them written
 * in (the variables are still coerced per call). Measured in the running server with a profiler
 * attached, a check-in's selection
 * (`{ event { seq type entityId occurredAt } customer { customerId checkedIn } }`): 37 µs with
 * `execute`, 12 µs compiled (30,000 runs each; bench/README.md, "Member apps"). The resolvers and
 * the schema's guards (studio scope, personal data, member access) are the schema's own, but for
 * the root field's (see {@link resolveToSourceWhenPlanned}).
 *
 * Where graphql-jit differs from graphql-js, and why it does not matter here: its errors carry no
 * `extensions` object until one is given and a scalar's failing `serialize` loses its
 * `originalError` (ws.ts formats both as it formats graphql-js's: by code, else masked), and its
 * `info.path` has no `typename` (no resolver of ours reads it).
 *
 * Undefined — `execute` then — for a document's first group (a document parsed for one
 * subscription only, e.g. a query too long for ws.ts's cache, is never compiled: compiling costs
 * more than executing a few events), for a document with `@skip` or `@include` anywhere (graphql-jit
 * decides fragment spreads with conditions at compile time and marks the shared AST, where
 * graphql-js decides them per execution), and where graphql-jit declines the document.
 */
function compiledOperation(schema: GraphQLSchema, prepared: PreparedOperation): CompiledOperation | undefined {
  let documents = compiledOperations.get(schema);
  if (!documents) compiledOperations.set(schema, (documents = new WeakMap()));
  let known = documents.get(prepared.document);
  if (!known) documents.set(prepared.document, (known = { plans: 0, operations: new Map() }));
  known.plans += 1;
  if (known.plans < 2) return undefined;
  const name = prepared.operationName ?? '';
  let compiled = known.operations.get(name);
  if (compiled === undefined) {
    const result = hasConditions(prepared.document)
      ? undefined
      : compileQuery(schema, prepared.document, prepared.operationName ?? undefined);
    compiled = result && isCompiledQuery(result) ? (result.query as CompiledOperation) : null;
    known.operations.set(name, compiled);
  }
  return compiled ?? undefined;
}

/** Whether a document uses `@skip` or `@include` anywhere (operations and fragments). */
function hasConditions(document: DocumentNode): boolean {
  let found = false;
  visit(document, {
    Directive(node) {
      if (node.name.value === 'skip' || node.name.value === 'include') {
        found = true;
        return BREAK;
      }
      return undefined;
    },
  });
  return found;
}

/** A resumed subscription's plan: what its replay group renders each event with. */
export interface PlannedReplay extends PlannedGroup, ReplayRenderer {
  /** The replay group: document, operation, variables and scope (the key of its shared renders). */
  readonly key: string;
  /** The `seq` the replay starts after. */
  readonly after: number;
}

/** Resume plans remembered (see {@link SubscriptionPlanner.group}); the first added are forgotten first. */
const MAX_REPLAY_PLANS = 256;

function isPromise<T>(value: T | Promise<T>): value is Promise<T> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}

type PlannedGroup = Parameters<FanoutHub['ensureGroup']>[1];
type Planned = PlannedGroup & { readonly after: number | undefined };

/**
 * A small number per parsed document, standing for its query text in group keys: thousands of
 * groups of one query (a member app's, with each member's variables) then do not each hold a key
 * as long as the query. Documents are cached per query text (graphql/ws.ts), so the same text
 * has the same number while its document is cached; a text parsed again gets a new number, and
 * its newcomers a new group (never a wrong one).
 */
const documentIds = new WeakMap<DocumentNode, number>();
let lastDocumentId = 0;

/** The key of a group: scope, operation, document and variables (all but `without`). */
function groupKey(viewer: Viewer, prepared: PreparedOperation, without?: string): string {
  let id = documentIds.get(prepared.document);
  if (id === undefined) documentIds.set(prepared.document, (id = ++lastDocumentId));
  let variables = prepared.variableValues ?? {};
  if (without !== undefined) {
    variables = { ...variables };
    delete (variables as Record<string, unknown>)[without];
  }
  return [viewerScopeKey(viewer), prepared.operationName ?? '', id, JSON.stringify(variables)].join('\u0000');
}

const afterVariables = new WeakMap<OperationDefinitionNode, string | null>();

/**
 * The variable given as the root field's `after` argument, when the document uses it nowhere else
 * (so the rendered events cannot depend on it); undefined otherwise.
 */
function afterOnlyVariable(prepared: PreparedOperation): string | undefined {
  const { operation, document } = prepared;
  let known = afterVariables.get(operation);
  if (known === undefined) {
    known = null;
    const [root] = operation.selectionSet.selections;
    const argument = root?.kind === Kind.FIELD ? root.arguments?.find((a) => a.name.value === 'after') : undefined;
    if (argument?.value.kind === Kind.VARIABLE) {
      const name = argument.value.name.value;
      let uses = 0;
      visit(document, {
        Variable(node) {
          if (node.name.value === name) uses += 1;
        },
      });
      // Its definition and the `after` argument: nothing else.
      if (uses === 2) known = name;
    }
    afterVariables.set(operation, known);
  }
  return known ?? undefined;
}

/** The `seq` of an `after` cursor; undefined when it does not parse. */
function seqOf(cursor: string): number | undefined {
  try {
    return parseEventCursor(cursor);
  } catch {
    return undefined;
  }
}
