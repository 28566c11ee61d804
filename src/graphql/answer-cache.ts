import {
  Kind,
  getArgumentValues,
  type FragmentDefinitionNode,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';
import { LRUCache } from 'lru-cache';
import { answerCacheableWith } from '../api/answer-cacheable.js';
import { viewerKey, viewerScopeKey, type Viewer } from '../api/viewer.js';

/**
 * This instance's data generation: a number that moves on every write the instance can learn of —
 * each batch it commits (before the batch's webhooks are acknowledged), each batch the event feed
 * announces (other instances' commits, hydration, reconciliation), each mutation it answers. An
 * answer read while the generation stayed the same describes the data of that generation.
 */
export class DataGeneration {
  private value = 0;

  get current(): number {
    return this.value;
  }

  /** Something was written: every answer read before now is old. Synchronous, so call it before acknowledging the write. */
  advance(): void {
    this.value++;
  }
}

/** Settings of {@link AnswerCache} (`GRAPHQL_ANSWER_CACHE_*`). */
export interface AnswerCacheOptions {
  /**
   * Longest time an answer is served from the cache, in ms: bounds how stale an answer may be after a
   * write this instance cannot learn of (a CLI, another instance's write before its announcement
   * arrives). 0 turns the cache off.
   */
  readonly maxAgeMs: number;
  /** Most answers kept. */
  readonly maxEntries: number;
  /** Most bytes kept: the answers' bodies and their keys (2 bytes a character). */
  readonly maxBytes: number;
}

/** One answer kept: the body as sent, and what a hit needs to answer and charge like the miss did. */
export interface CachedAnswer {
  /** The generation when the read that produced it started. */
  readonly generation: number;
  /** The body as sent (UTF-8). */
  readonly body: Buffer;
  /** The headers Apollo answered with (media type, cache-control). */
  readonly headers: readonly (readonly [string, string])[];
  /** The operation's measured cost, charged again on every hit. */
  readonly cost: number;
}

/** A request that may be answered from the cache: its key and the generation when it arrived. */
export interface AnswerTicket {
  readonly key: string;
  readonly generation: number;
}

/**
 * Whole GraphQL-over-HTTP answers of query operations whose every root field is declared cacheable
 * (src/api/answer-cacheable.ts), keyed by the viewer, the operation and its variables, valid while
 * the instance's {@link DataGeneration} is the one their read started in, and for at most `maxAgeMs`.
 *
 * Why a cache of answers, and before Apollo: dashboards ask the same report again and again until
 * the data changes; a report of 168 buckets costs graphql-js executing and serialising ~1,200 values
 * and Apollo's request pipeline (parse cache, validation, plugins, cost measure) several ms. A hit
 * skips all of it: the HTTP handler looks the answer up right after authentication and the body, and
 * sends the stored text. `@apollo/server-plugin-response-cache` answers only after Apollo has resolved
 * the operation (its hook comes after parsing, validation and our plugins), which is most of the cost
 * this saves; the store is `lru-cache` (bounded by entries, bytes and age).
 *
 * Never stale on this instance: an answer is stored only if the generation did not move while it was
 * read, and served only while it still has not; the ingestor advances it after COMMIT and before any
 * acknowledgement, so a query sent after a webhook's 200 never gets an answer read before it.
 */
export class AnswerCache {
  private readonly entries: LRUCache<string, CachedAnswer>;
  /** Answers being read now, by key: the requests asking the same meanwhile wait for them. */
  private readonly reading = new Map<string, { readonly generation: number; readonly answer: Promise<CachedAnswer | undefined> }>();

  constructor(
    /** Advanced by the writes this instance learns of (main.ts), and by mutations (http.ts). */
    readonly generation: DataGeneration,
    readonly options: AnswerCacheOptions,
  ) {
    this.entries = new LRUCache<string, CachedAnswer>({
      max: Math.max(1, options.maxEntries),
      maxSize: Math.max(1, options.maxBytes),
      sizeCalculation: (answer, key) => Math.max(1, answer.body.length + 2 * key.length),
      ttl: Math.max(1, options.maxAgeMs),
    });
  }

  get enabled(): boolean {
    return this.options.maxAgeMs > 0;
  }

  /**
   * The ticket of a POST body that may be answered from the cache: one operation (`query`, optional
   * `operationName` and `variables`, nothing else); undefined otherwise, or with the cache off.
   * `accept` is part of the key: it decides the answer's media type.
   */
  ticket(viewer: Viewer, body: unknown, accept: string | undefined): AnswerTicket | undefined {
    if (!this.enabled || typeof body !== 'object' || body === null || Array.isArray(body)) return undefined;
    const { query, operationName, variables, ...rest } = body as Record<string, unknown>;
    if (typeof query !== 'string' || Object.keys(rest).length > 0) return undefined;
    if (operationName !== undefined && operationName !== null && typeof operationName !== 'string') return undefined;
    if (variables !== undefined && variables !== null && (typeof variables !== 'object' || Array.isArray(variables))) return undefined;
    // Everything that shapes what the viewer sees (role, studios, personalData, the member's customer)
    // and who it is (token id, or the JWT's studios and customer): two viewers never share an entry.
    const key = JSON.stringify([
      viewerKey(viewer),
      viewerScopeKey(viewer),
      accept ?? '',
      operationName ?? null,
      query,
      canonical(variables ?? {}),
    ]);
    return { key, generation: this.generation.current };
  }

  /** The answer kept for `ticket`, if it was read in the current generation and is younger than the max age. */
  get(ticket: AnswerTicket): CachedAnswer | undefined {
    const answer = this.entries.get(ticket.key);
    if (answer && answer.generation === this.generation.current) return answer;
    if (answer) this.entries.delete(ticket.key);
    return undefined;
  }

  /**
   * The answer another request is reading for the same key, begun in the same generation as
   * `ticket` (so no write this instance learned of came between them): when an answer expires under
   * load, the requests in flight for it wait for one read instead of all running it (a spike of
   * executions every max age otherwise). Resolves to undefined when that read gives nothing to share.
   */
  shared(ticket: AnswerTicket): Promise<CachedAnswer | undefined> | undefined {
    const reading = this.reading.get(ticket.key);
    return reading && reading.generation === ticket.generation ? reading.answer : undefined;
  }

  /**
   * Declares the request of `ticket` the one reading its answer (a cacheable operation, known once
   * resolved); returns what to call with the answer when done (undefined: none to share), or
   * undefined when another request already reads it.
   */
  lead(ticket: AnswerTicket): ((answer: Omit<CachedAnswer, 'generation'> | undefined) => void) | undefined {
    if (this.reading.has(ticket.key)) return undefined;
    let settle!: (answer: CachedAnswer | undefined) => void;
    const reading = { generation: ticket.generation, answer: new Promise<CachedAnswer | undefined>((resolve) => (settle = resolve)) };
    this.reading.set(ticket.key, reading);
    return (answer) => {
      if (this.reading.get(ticket.key) === reading) this.reading.delete(ticket.key);
      settle(answer && { ...answer, generation: ticket.generation });
    };
  }

  /** Keeps the answer of `ticket`'s request, unless the data changed since the request arrived; true when kept. */
  set(ticket: AnswerTicket, answer: Omit<CachedAnswer, 'generation'>): boolean {
    if (ticket.generation !== this.generation.current) return false;
    this.entries.set(ticket.key, { ...answer, generation: ticket.generation });
    return true;
  }
}

/**
 * Whether an operation's answer may be cached: a query whose every root field (through fragments)
 * is `__typename` or declared cacheable for the arguments it is given.
 */
export function isCacheableOperation(
  schema: GraphQLSchema,
  operation: OperationDefinitionNode,
  fragments: Readonly<Record<string, FragmentDefinitionNode>>,
  variables: Record<string, unknown>,
): boolean {
  if (operation.operation !== 'query') return false;
  const fields = schema.getQueryType()?.getFields();
  if (!fields) return false;
  const seen = new Set<string>();
  const cacheable = (selections: SelectionSetNode): boolean =>
    selections.selections.every((selection) => {
      switch (selection.kind) {
        case Kind.FIELD: {
          if (selection.name.value === '__typename') return true;
          const field = fields[selection.name.value];
          if (!field) return false;
          try {
            return answerCacheableWith(field, getArgumentValues(field, selection, variables));
          } catch {
            return false; // arguments that do not coerce: the operation fails anyway
          }
        }
        case Kind.INLINE_FRAGMENT:
          return cacheable(selection.selectionSet);
        case Kind.FRAGMENT_SPREAD: {
          const name = selection.name.value;
          if (seen.has(name)) return true;
          seen.add(name);
          const fragment = fragments[name];
          return fragment !== undefined && cacheable(fragment.selectionSet);
        }
        default: {
          const unknown: never = selection;
          return unknown;
        }
      }
    });
  return cacheable(operation.selectionSet);
}

/** `value` with every object's keys in order: `{"b":1,"a":2}` and `{"a":2,"b":1}` are one key. */
function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (typeof value !== 'object' || value === null) return value;
  const sorted: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) sorted[key] = canonical((value as Record<string, unknown>)[key]);
  return sorted;
}
