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

/** Payloads remembered per replay group (one per subscription shape and scope). */
class GroupRenders {
  readonly payloads = new Map<number, Entry>();
  /** The render under way when it waits for I/O: the next one waits for it (they share one context's loaders). */
  busy: Promise<unknown> | undefined;

  constructor(readonly renderer: ReplayRenderer) {}
}

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
 * Bounded: at most `maxEntries` payloads and about `maxBytes` of text for all groups, the oldest
 * forgotten first. Replays of one group advance side by side (replay-pacer.ts hands out turns in
 * order), so what one rendered is usually taken by the others long before it is forgotten; one that
 * falls behind further than the window renders again (never a wrong payload, only more work). A
 * failed render is forgotten at once: the next replay tries again (and fails its own stream).
 */
export class ReplayRenders {
  private readonly groups = new Map<string, GroupRenders>();
  /** Every remembered payload in the order rendered: its group, its seq and its size. */
  private readonly order: { group: GroupRenders; seq: number; bytes: number }[] = [];
  private head = 0;
  private bytes = 0;
  /** Renders run, and payloads taken from another replay's render (tests, bench). */
  readonly counters = { rendered: 0, shared: 0 };

  constructor(
    /** Payloads remembered for all groups. @default 50000 */
    readonly maxEntries = 50_000,
    /** Bytes of payload remembered for all groups. @default 32 MiB */
    readonly maxBytes = 32 * 1024 * 1024,
    /** Groups remembered (each keeps its renderer, and so a context); the first added are forgotten first. @default 256 */
    readonly maxGroups = 256,
  ) {}

  /**
   * The JSON text of the `next` payload of `event` for the replay group `key`, UTF-8 encoded once for
   * every replay (null: skipped),
   * rendered with `renderer` if no replay of the group has rendered it yet (or it was forgotten).
   * Synchronous when the payload is known or renders without I/O.
   */
  payload(key: string, renderer: ReplayRenderer, event: LoggedEvent): Entry {
    const group = this.group(key, renderer);
    const known = group.payloads.get(event.seq);
    if (known !== undefined) {
      this.counters.shared += 1;
      return known;
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
    group.payloads.set(event.seq, entry);
    if (entry instanceof Promise) {
      const pending = entry;
      group.busy = pending;
      pending.then(
        (text) => {
          if (group.busy === pending) group.busy = undefined;
          if (group.payloads.get(event.seq) === pending) {
            group.payloads.set(event.seq, text);
            this.remember(group, event.seq, text);
          }
        },
        () => {
          if (group.busy === pending) group.busy = undefined;
          if (group.payloads.get(event.seq) === pending) group.payloads.delete(event.seq);
        },
      );
    } else {
      this.remember(group, event.seq, entry);
    }
    return entry;
  }

  private group(key: string, renderer: ReplayRenderer): GroupRenders {
    let group = this.groups.get(key);
    if (!group) {
      group = new GroupRenders(renderer);
      this.groups.set(key, group);
      if (this.groups.size > this.maxGroups) {
        const oldest = this.groups.keys().next().value!;
        this.groups.get(oldest)!.payloads.clear();
        this.groups.delete(oldest);
      }
    }
    return group;
  }

  /** Counts a payload against the bounds, forgetting the oldest ones beyond them. */
  private remember(group: GroupRenders, seq: number, payload: RenderedPayload): void {
    const bytes = 16 + (payload?.length ?? 0);
    this.order.push({ group, seq, bytes });
    this.bytes += bytes;
    while (this.order.length - this.head > this.maxEntries || (this.bytes > this.maxBytes && this.order.length - this.head > 1)) {
      const oldest = this.order[this.head++]!;
      this.bytes -= oldest.bytes;
      const entry = oldest.group.payloads.get(oldest.seq);
      if (!(entry instanceof Promise)) oldest.group.payloads.delete(oldest.seq);
    }
    if (this.head > 1024 && this.head * 2 > this.order.length) {
      this.order.splice(0, this.head);
      this.head = 0;
    }
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
