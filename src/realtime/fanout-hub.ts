import type { LoggedEvent } from '../events/logged-event.js';
import { deliver } from './in-process-feed.js';
import type { EventFeed, EventListener } from './feed.js';
import type { EventSelector } from '../api/stream-selector.js';
import { matches } from './log-reader.js';
import { SelectorIndex } from './selector-index.js';

/**
 * What the hub needs of a WebSocket connection. `write` takes complete WebSocket frames and puts
 * them on the TCP socket as they are: the hub frames each message once for all its sockets.
 */
export interface FanoutSocket {
  /** 1 while open (WebSocket.OPEN); nothing may be written once the closing handshake began. */
  readonly readyState: number;
  /** Bytes waiting in the socket's send buffer. */
  readonly bufferedAmount: number;
  /** Writes whole, unmasked server frames (never interleaved with another frame). */
  write(frames: Buffer): void;
  close(code: number, reason: string): void;
}

/** How the events of one group of subscriptions become the payload of their `next` messages. */
export interface FanoutGroupSpec {
  /** Which events the group wants: checked before anything is loaded or executed. */
  readonly selector: EventSelector;
  /** The event as the subscription field's root value; undefined skips it. */
  readonly map: (event: LoggedEvent) => unknown;
  /** The `payload` of the `next` message for a root value, as JSON text (executed and formatted). */
  readonly render: (root: unknown) => Promise<string> | string;
  /** The `payload` of the `error` message that ends the group when `map` or `render` threw, as JSON text. */
  readonly fail: (error: unknown) => string;
  /** The records `map` loads (payload field names; StreamPlan.records; see {@link FanoutHub.wantsRecords}). */
  readonly records?: readonly string[];
}

export interface FanoutHubOptions {
  readonly feed: Pick<EventFeed, 'subscribe'>;
  /** Matching events a group may have waiting to be executed; beyond it every member is closed with `slow`. */
  readonly maxQueued: number;
  /** Bytes a member's socket may have waiting when a message is due; beyond it the socket is closed with `slow`. */
  readonly maxBufferedBytes: number;
  /** The close code and reason for a slow consumer (4008). */
  readonly slow: { readonly code: number; readonly reason: string };
  /** Sockets written to per turn of the event loop, so webhooks and other sockets are served between slices. @default 1000 */
  readonly sliceSize?: number;
  /** A standalone listener threw. */
  readonly onListenerError?: (error: unknown) => void;
  /**
   * An event was written to every socket of a group, `ms` after the hub received its announcement
   * (the fan-out lag, for the metrics); called once per event per group, never per socket.
   */
  readonly onFannedOut?: (ms: number) => void;
}

/** Running totals of the hub's work (never reset). */
export interface FanoutCounters {
  /** (group, event) pairs whose selector was checked: the candidates the index found. */
  examined: number;
  /** Events a group mapped and executed (one per event per group it matched, whatever the group's size). */
  executions: number;
}

/** The graphql-ws connection state a member is registered in (`ctx.subscriptions`). */
export interface FanoutRegistry {
  readonly subscriptions: Record<string, unknown>;
}

const DONE: IteratorReturnResult<undefined> = { value: undefined, done: true };
const OPEN = 1;
const NEXT = Buffer.from(',"type":"next","payload":');
const CLOSE_BRACE = Buffer.from('}');
/** Frames kept per walk for reuse (members with the same id and window share them). */
const FRAME_CACHE = 64;

/**
 * One or more text messages as WebSocket frames (RFC 6455 5.2: FIN, opcode 1, unmasked, as a
 * server sends them; no extension is negotiated), each message given as the chunks it is made of.
 */
export function textFrames(messages: readonly (readonly Buffer[])[]): Buffer {
  const pieces: Buffer[] = [];
  for (const chunks of messages) {
    let length = 0;
    for (const chunk of chunks) length += chunk.length;
    let header: Buffer;
    if (length < 126) {
      header = Buffer.from([0x81, length]);
    } else if (length < 0x10000) {
      header = Buffer.from([0x81, 126, length >> 8, length & 0xff]);
    } else {
      header = Buffer.alloc(10);
      header[0] = 0x81;
      header[1] = 127;
      header.writeBigUInt64BE(BigInt(length), 2);
    }
    pieces.push(header, ...chunks);
  }
  return Buffer.concat(pieces);
}

/**
 * The frame of one `next` message: `head` is `{"id":<the operation id as JSON>`, `payload` the JSON
 * text of the payload (shared by every subscription it goes to).
 */
export function nextFrame(head: Buffer, payload: Buffer): Buffer {
  return textFrames([[head, NEXT, payload, CLOSE_BRACE]]);
}

/** A rendered event: its `seq` and the JSON text of its `next` payload. */
interface Rendered {
  readonly seq: number;
  readonly payload: Buffer;
  /** When the hub received the event's announcement (performance.now() ms). */
  readonly at: number;
}

/**
 * One subscription (an operation id on a socket) served by a group. It stands in graphql-ws's
 * `ctx.subscriptions[id]` as an async generator, so that graphql-ws's own `complete` handling and
 * connection cleanup end it (by calling `return()`); it is never iterated.
 */
export class FanoutMember implements AsyncIterableIterator<never> {
  group: FanoutGroup | undefined;
  /**
   * The highest `seq` this member has been written (or that was announced before it joined):
   * it is due the rendered events after it.
   */
  sent = 0;
  ended = false;

  constructor(
    readonly socket: FanoutSocket,
    readonly id: string,
    readonly registry: FanoutRegistry,
  ) {}

  /** Leaves the group (or, before joining, makes the join a no-op). Idempotent. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.group?.leave(this);
    this.group = undefined;
  }

  next(): Promise<IteratorResult<never>> {
    return Promise.resolve(DONE);
  }

  return(): Promise<IteratorResult<never>> {
    this.end();
    return Promise.resolve(DONE);
  }

  throw(): Promise<IteratorResult<never>> {
    this.end();
    return Promise.resolve(DONE);
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<never> {
    return this;
  }
}

/**
 * The subscriptions that share a document, variables and scope: each event is matched, mapped,
 * executed and serialised once for all of them, then the same bytes go to every socket (with
 * each subscription's id spliced in).
 *
 * Two loops run side by side. Rendering takes the matching events one after another, in `seq`
 * order, and appends them to the window. Sending walks the members and writes each one what it is
 * due of the window in one write; events rendered while a walk is under way reach the members not
 * yet walked in the same walk, and the ones already walked in the next (which skips everyone
 * else). So an event reaches every socket within about one walk of being rendered, and a socket
 * gets a backlog in one write.
 */
export class FanoutGroup {
  readonly members = new Set<FanoutMember>();
  private readonly pending: LoggedEvent[] = [];
  /** When each of `pending` was announced (performance.now() ms), index for index. */
  private readonly pendingAt: number[] = [];
  /** Rendered events, in `seq` order, not yet written to every member. */
  private rendered: Rendered[] = [];
  private rendering = false;
  private sending = false;
  private disposed = false;

  constructor(
    private readonly hub: FanoutHub,
    readonly key: string,
    readonly spec: FanoutGroupSpec,
  ) {}

  /** Adds a member: it gets the events announced from now on. False when the member had already ended. */
  join(member: FanoutMember): boolean {
    if (member.ended || this.disposed) return false;
    member.group = this;
    member.sent = this.hub.announced;
    this.members.add(member);
    return true;
  }

  leave(member: FanoutMember): void {
    if (!this.members.delete(member)) return;
    if (this.members.size === 0) this.dispose();
  }

  /** The rendered events not yet written to every member (appended to while a walk runs). */
  get window(): readonly Rendered[] {
    return this.rendered;
  }

  /** Takes `event` if it matches (true then); it was announced at `at`. */
  offer(event: LoggedEvent, at: number): boolean {
    this.hub.counters.examined += 1;
    if (this.disposed || !matches(this.spec.selector, event)) return false;
    this.pending.push(event);
    this.pendingAt.push(at);
    return true;
  }

  /** More matching events wait to be executed than the hub allows. */
  get overQueued(): boolean {
    return this.pending.length > this.hub.options.maxQueued;
  }

  /** Starts rendering the events offered, unless it is under way. */
  kick(): void {
    if (!this.rendering && this.pending.length > 0 && !this.disposed) void this.render();
  }

  private async render(): Promise<void> {
    this.rendering = true;
    try {
      while (!this.disposed && this.pending.length > 0) {
        const event = this.pending.shift()!;
        const at = this.pendingAt.shift()!;
        let payload: string;
        try {
          this.hub.counters.executions += 1;
          const root = await this.spec.map(event);
          if (root === undefined || this.disposed) continue;
          payload = await this.spec.render(root);
        } catch (error) {
          this.failAll(this.spec.fail(error));
          return;
        }
        if (this.disposed) return;
        this.rendered.push({ seq: event.seq, payload: Buffer.from(payload), at });
        if (!this.sending) void this.send();
      }
    } finally {
      this.rendering = false;
    }
  }

  private async send(): Promise<void> {
    this.sending = true;
    try {
      while (!this.disposed && this.rendered.length > 0) {
        const last = this.rendered[this.rendered.length - 1]!.seq;
        await this.hub.walk(this);
        // Every member has been written everything up to `last` (or has gone).
        const keep = this.rendered.findIndex((r) => r.seq > last);
        const { onFannedOut } = this.hub.options;
        if (onFannedOut) {
          const now = performance.now();
          for (let i = 0, end = keep < 0 ? this.rendered.length : keep; i < end; i++) onFannedOut(now - this.rendered[i]!.at);
        }
        this.rendered = keep < 0 ? [] : this.rendered.slice(keep);
      }
    } finally {
      this.sending = false;
    }
  }

  /** Closes every member's socket with the slow-consumer code (the group fell too far behind). */
  overflow(): void {
    const { code, reason } = this.hub.options.slow;
    for (const member of [...this.members]) {
      member.end();
      member.socket.close(code, reason);
    }
  }

  /**
   * Ends every member with an `error` message (graphql-ws's answer when a subscription's source
   * fails), after the `next` messages of the events rendered before the failure.
   */
  private failAll(payload: string): void {
    const frames = new Map<string, Buffer>();
    const rendered = this.rendered; // the last member's leaving disposes of the group
    for (const member of [...this.members]) {
      member.end();
      if (member.registry.subscriptions[member.id] === member) delete member.registry.subscriptions[member.id];
      if (member.socket.readyState !== OPEN) continue;
      const due = this.hub.due(member, rendered, frames);
      const error = textFrames([[Buffer.from(`{"id":${JSON.stringify(member.id)},"type":"error","payload":${payload}}`)]]);
      member.socket.write(due ? Buffer.concat([due, error]) : error);
    }
    this.dispose();
  }

  private dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.pending.length = 0;
    this.pendingAt.length = 0;
    this.rendered = [];
    this.hub.forget(this);
  }
}

/**
 * The one listener of this instance on the event feed. Subscriptions with the same shape share a
 * {@link FanoutGroup}; streams that cannot be shared (resumed with `after`, `occupancyChanged`)
 * listen here one by one. Announcements are handled on a later turn of the event loop
 * (setImmediate), never inside `publish`, so a webhook's answer is written before its fan-out
 * starts, and in the order they were announced.
 *
 * Groups, and streams that say what they select, are filed in a {@link SelectorIndex}: an event
 * is offered to the groups and streams that may want it, not to all of them, so what an event
 * costs grows with the subscriptions it matches, not with the subscriptions open.
 */
export class FanoutHub {
  private readonly groups = new Map<string, FanoutGroup>();
  private readonly index = new SelectorIndex<FanoutGroup>();
  /** Streams that gave no selector: handed every batch. */
  private readonly listeners = new Set<EventListener>();
  /** Streams that gave one: handed the events of a batch that may match it. */
  private readonly filedListeners = new SelectorIndex<EventListener>();
  private readonly inbox: (readonly LoggedEvent[])[] = [];
  /** When each batch of `inbox` arrived (performance.now() ms), index for index. */
  private readonly inboxAt: number[] = [];
  private scheduled = false;
  private readonly unsubscribe: () => void;
  private readonly sliceSize: number;
  /** The highest `seq` announced to this hub. */
  announced = 0;
  /** What the hub has done since it started (tests and bench/fanout.ts read it). */
  readonly counters: FanoutCounters = { examined: 0, executions: 0 };

  constructor(readonly options: FanoutHubOptions) {
    this.sliceSize = options.sliceSize ?? 1000;
    this.unsubscribe = options.feed.subscribe((events) => this.receive(events));
  }

  /**
   * Listens to the events announced from now on, one listener per stream (EventFeed's `subscribe`):
   * a batch announced before, still waiting for its turn, is not handed to it. With `selector`,
   * the listener is handed only the events that may match it (it still checks them).
   */
  subscribe(listener: EventListener, selector?: EventSelector): () => void {
    const from = this.announced;
    const bound: EventListener = (events) => {
      if (events[0]!.seq > from) return listener(events);
      const fresh = events.filter((event) => event.seq > from);
      if (fresh.length > 0) listener(fresh);
    };
    if (!selector) {
      this.listeners.add(bound);
      return () => this.listeners.delete(bound);
    }
    this.filedListeners.add(bound, selector);
    return () => this.filedListeners.delete(bound);
  }

  /** Open subscriptions: members of groups and standalone streams. */
  get subscriptions(): number {
    let count = this.listeners.size + this.filedListeners.size;
    for (const group of this.groups.values()) count += group.members.size;
    return count;
  }

  get groupCount(): number {
    return this.groups.size;
  }

  /**
   * The records of `event` the groups here that take it will load (the per-type subscription
   * fields' `map`: record-preload.ts), or undefined for none. A look at the index only: the event
   * is not offered, and nothing is counted.
   */
  wantsRecords(event: LoggedEvent): ReadonlySet<string> | undefined {
    let wanted: Set<string> | undefined;
    this.index.candidates(event, (group) => {
      const { records } = group.spec;
      if (!records?.length || !matches(group.spec.selector, event)) return;
      wanted ??= new Set();
      for (const record of records) wanted.add(record);
    });
    return wanted;
  }

  group(key: string): FanoutGroup | undefined {
    return this.groups.get(key);
  }

  /** The group of `key`, created with `spec` if there is none. */
  ensureGroup(key: string, spec: FanoutGroupSpec): FanoutGroup {
    let group = this.groups.get(key);
    if (!group) {
      group = new FanoutGroup(this, key, spec);
      this.groups.set(key, group);
      this.index.add(group, spec.selector);
    }
    return group;
  }

  forget(group: FanoutGroup): void {
    if (this.groups.get(group.key) === group) this.groups.delete(group.key);
    this.index.delete(group);
  }

  close(): void {
    this.unsubscribe();
    this.listeners.clear();
    for (const listener of [...this.filedListeners.items()]) this.filedListeners.delete(listener);
    for (const group of [...this.groups.values()]) for (const member of [...group.members]) member.end();
    this.inbox.length = 0;
    this.inboxAt.length = 0;
  }

  private receive(events: readonly LoggedEvent[]): void {
    if (events.length === 0) return;
    this.announced = Math.max(this.announced, events[events.length - 1]!.seq);
    this.inbox.push(events);
    this.inboxAt.push(this.options.onFannedOut ? performance.now() : 0);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.drain());
  }

  /**
   * Hands every waiting announcement out, each event to the groups and streams the index finds
   * for it, then starts the groups that took something (they take their backlog at once).
   */
  private drain(): void {
    this.scheduled = false;
    const started = new Set<FanoutGroup>();
    for (let events = this.inbox.shift(); events; events = this.inbox.shift()) {
      const at = this.inboxAt.shift()!;
      deliver(this.listeners, events, this.options.onListenerError);
      if (this.filedListeners.size > 0) this.deliverFiled(events);
      const took = new Set<FanoutGroup>();
      for (const event of events) {
        this.index.candidates(event, (group) => {
          if (group.offer(event, at)) took.add(group);
        });
      }
      for (const group of took) {
        if (group.overQueued) group.overflow();
        else started.add(group);
      }
    }
    for (const group of started) group.kick();
  }

  /** Hands each filed stream the events of a batch the index finds it for, in order, in one call. */
  private deliverFiled(events: readonly LoggedEvent[]): void {
    const due = new Map<EventListener, LoggedEvent[]>();
    for (const event of events) {
      this.filedListeners.candidates(event, (listener) => {
        const list = due.get(listener);
        if (list) list.push(event);
        else due.set(listener, [event]);
      });
    }
    for (const [listener, list] of due) {
      try {
        listener(list);
      } catch (error) {
        this.options.onListenerError?.(error);
      }
    }
  }

  /**
   * One walk over a group's members: each is written, in one write, the `next` messages of the
   * window it is due (events rendered after its `sent`), `sliceSize` sockets per turn of the event
   * loop. The frames are built once per distinct operation id and starting event. A member whose
   * socket has more than `maxBufferedBytes` waiting is closed as a slow consumer instead.
   */
  async walk(group: FanoutGroup): Promise<void> {
    const { maxBufferedBytes, slow } = this.options;
    const frames = new Map<string, Buffer>();
    let written = 0;
    for (const member of group.members) {
      const window = group.window;
      if (window.length === 0) return; // the group ended
      if (member.sent >= window[window.length - 1]!.seq) continue;
      const { socket } = member;
      if (socket.readyState !== OPEN) continue;
      if (socket.bufferedAmount > maxBufferedBytes) {
        member.end();
        socket.close(slow.code, slow.reason);
        continue;
      }
      socket.write(this.due(member, window, frames)!);
      if (++written % this.sliceSize === 0) await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  /**
   * The frames of the `next` messages `member` is due of `window` (events after its `sent`), which
   * then count as sent; undefined when it is due none. `frames` keeps them for members with the
   * same id and starting event.
   */
  due(member: FanoutMember, window: readonly Rendered[], frames: Map<string, Buffer>): Buffer | undefined {
    const end = window.length;
    if (end === 0 || member.sent >= window[end - 1]!.seq) return undefined;
    let first = 0;
    while (window[first]!.seq <= member.sent) first += 1;
    const key = `${first}:${end}:${member.id}`;
    let bytes = frames.get(key);
    if (!bytes) {
      const head = Buffer.from(`{"id":${JSON.stringify(member.id)}`);
      bytes = textFrames(window.slice(first).map(({ payload }) => [head, NEXT, payload, CLOSE_BRACE]));
      if (frames.size >= FRAME_CACHE) frames.clear();
      frames.set(key, bytes);
    }
    member.sent = window[end - 1]!.seq;
    return bytes;
  }
}
