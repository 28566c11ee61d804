import { LRUCache } from 'lru-cache';
import type { LoggedEvent } from '../events/logged-event.js';

/** How one replay group turns an event into the JSON text of its `next` payload (undefined: skipped). */
export interface ReplayRenderer {
  /** The event as the subscription field's root value; undefined skips it. */
  readonly map: (event: LoggedEvent) => unknown;
  /** The `payload` of the `next` message for a root value, as JSON text (executed and formatted). */
  readonly render: (root: unknown) => Promise<string> | string;
}

/** A payload (the JSON text, UTF-8), or the promise of one while it renders; null: the event is skipped. */
export type RenderedPayload = Buffer | null;
type Entry = RenderedPayload | Promise<RenderedPayload>;

/** One replay group (one subscription shape and scope): its renderer and the renders under way. */
class GroupRenders {
  /** Renders under way, by seq; once done, their payload moves to the shared store. */
  readonly pending = new Map<number, Promise<RenderedPayload>>();
  /** The render under way when it waits for I/O: the next one waits for it (they share one context's loaders). */
  busy: Promise<unknown> | undefined;

  constructor(readonly renderer: ReplayRenderer) {}
}

/** Stands for a skipped event in the store (`lru-cache` keeps no null). */
const SKIPPED = Buffer.alloc(0);

/**
 * The rendered `next` payloads of replayed events, shared by the replays of one *replay group*:
 * resumed subscriptions (`after`) with the same document, operation, variables and scope — those
 * that would receive the same bytes for an event (subscription-planner.ts decides, as for the live
 * fan-out groups). A reconnect storm resumes hundreds of such subscriptions from the same event;
 * each would otherwise execute the selection and serialise every replayed event itself (in
 * graphql-ws), the same work a thousand times. Now the first replay to reach an event renders it
 * and the others take the JSON text; the position does not matter (the payload of event `seq` is
 * the same whatever the replay started from), and the live events after the replay are shared the
 * same way.
 *
 * Bounded (`lru-cache`): at most `maxEntries` payloads and about `maxBytes` of text for all groups,
 * the least recently used forgotten first. Replays of one group advance side by side
 * (replay-pacer.ts hands out turns in order), so what one rendered is usually taken by the others
 * long before it is forgotten; one that falls behind further than that renders again (never a
 * wrong payload, only more work). A failed render is forgotten at once: the next replay tries
 * again (and fails its own stream).
 */
export class ReplayRenders {
  private readonly groups = new Map<string, GroupRenders>();
  /** Rendered payloads of every group, by group key and seq. */
  private readonly payloads: LRUCache<string, Buffer>;
  /** Renders run, and payloads taken from another replay's render (tests, bench). */
  readonly counters = { rendered: 0, shared: 0 };

  constructor(
    /** Payloads remembered for all groups. @default 50000 */
    readonly maxEntries = 50_000,
    /** Bytes of payload remembered for all groups. @default 32 MiB */
    readonly maxBytes = 32 * 1024 * 1024,
    /** Groups remembered (each keeps its renderer, and so a context); the first added are forgotten first. @default 256 */
    readonly maxGroups = 256,
  ) {
    this.payloads = new LRUCache<string, Buffer>({ max: maxEntries, maxSize: maxBytes, sizeCalculation: (payload) => 16 + payload.length });
  }

  /**
   * The JSON text of the `next` payload of `event` for the replay group `key`, UTF-8 encoded once for
   * every replay (null: skipped),
   * rendered with `renderer` if no replay of the group has rendered it yet (or it was forgotten).
   * Synchronous when the payload is known or renders without I/O.
   */
  payload(key: string, renderer: ReplayRenderer, event: LoggedEvent): Entry {
    const group = this.group(key, renderer);
    const stored = `${key}\u0001${event.seq}`;
    const known = this.payloads.get(stored) ?? group.pending.get(event.seq);
    if (known !== undefined) {
      this.counters.shared += 1;
      return known === SKIPPED ? null : known;
    }
    this.counters.rendered += 1;
    let entry: Entry;
    if (group.busy) {
      entry = group.busy.then(
        () => renderOne(group.renderer, event),
        () => renderOne(group.renderer, event),
      );
    } else {
      try {
        entry = renderOne(group.renderer, event);
      } catch (error) {
        return Promise.reject(error);
      }
    }
    if (!(entry instanceof Promise)) {
      this.payloads.set(stored, entry ?? SKIPPED);
      return entry;
    }
    const pending = entry;
    group.busy = pending;
    group.pending.set(event.seq, pending);
    const settled = () => {
      if (group.busy === pending) group.busy = undefined;
      if (group.pending.get(event.seq) === pending) group.pending.delete(event.seq);
    };
    pending.then((text) => {
      settled();
      if (this.groups.get(key) === group) this.payloads.set(stored, text ?? SKIPPED);
    }, settled);
    return pending;
  }

  private group(key: string, renderer: ReplayRenderer): GroupRenders {
    let group = this.groups.get(key);
    if (!group) {
      group = new GroupRenders(renderer);
      this.groups.set(key, group);
      if (this.groups.size > this.maxGroups) this.groups.delete(this.groups.keys().next().value!);
    }
    return group;
  }
}

function renderOne(renderer: ReplayRenderer, event: LoggedEvent): Entry {
  const root = renderer.map(event);
  if (root instanceof Promise) return root.then((value) => (value === undefined ? null : encode(renderer.render(value))));
  if (root === undefined) return null;
  return encode(renderer.render(root));
}

function encode(text: string | Promise<string>): Buffer | Promise<Buffer> {
  return typeof text === 'string' ? Buffer.from(text) : text.then((resolved) => Buffer.from(resolved));
}
