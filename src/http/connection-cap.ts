import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

export interface ConnectionCapOptions {
  /** Open connections allowed at once, WebSockets included. */
  readonly max: number;
  /** A connection was closed to make room for a new one. */
  readonly onEvicted?: () => void;
  /** A new connection was closed at once: every open one is a live WebSocket or has a request being answered. */
  readonly onRefused?: () => void;
}

/** What the cap knows of one connection that is not a WebSocket. */
interface Waiting {
  /** When it began waiting: when it opened, or when its last response was written. */
  since: number;
  /** The request being received or answered on it, if any. */
  request: IncomingMessage | undefined;
}

/**
 * Caps the open connections of an HTTP server, and makes room for a new one by closing the one
 * that has waited longest without completing a request: idle keep-alive connections, and
 * connections still trickling their headers or body, oldest first. A connection whose request
 * has fully arrived and is being answered (a webhook waiting for its commit) is never closed for
 * room, and neither is a WebSocket once upgraded (it is live; `WS_CONNECTION_INIT_TIMEOUT_MS`,
 * the per-token limit and keep-alive pings bound those). Only when every connection is one of
 * those is the new connection closed instead.
 *
 * So a flood of slow or silent connections cannot keep out a health check or a webhook: each
 * newcomer pushes out the oldest waiter, and a caller that sends its request promptly is answered
 * before its turn to be pushed out comes. The timeouts (server.ts) then clear the waiters anyway.
 *
 * Cost: one Map entry per connection, re-inserted when a response is written, so that the Map's
 * order (oldest first) is the order of eviction; an eviction looks at the front of it only,
 * skipping the requests being answered.
 */
export class ConnectionCap {
  /** Connections other than WebSockets, in the order they began waiting (oldest first). */
  private readonly waiting = new Map<Socket, Waiting>();
  private readonly upgraded = new Set<Socket>();

  constructor(
    server: Server,
    private readonly options: ConnectionCapOptions,
  ) {
    server.on('connection', (socket: Socket) => this.opened(socket));
    server.on('request', (req: IncomingMessage, res: ServerResponse) => this.requested(req, res));
    server.on('upgrade', (req: IncomingMessage) => this.upgrade(req.socket));
  }

  /** Open connections, WebSockets included. */
  get size(): number {
    return this.waiting.size + this.upgraded.size;
  }

  private opened(socket: Socket): void {
    this.waiting.set(socket, { since: Date.now(), request: undefined });
    socket.once('close', () => {
      this.waiting.delete(socket);
      this.upgraded.delete(socket);
    });
    if (this.size > this.options.max) this.makeRoom(socket);
  }

  private requested(req: IncomingMessage, res: ServerResponse): void {
    const entry = this.waiting.get(req.socket as Socket);
    if (!entry) return;
    entry.request = req;
    res.once('finish', () => {
      const socket = req.socket as Socket;
      const current = this.waiting.get(socket);
      if (current !== entry || entry.request !== req) return;
      entry.request = undefined;
      entry.since = Date.now();
      // To the back of the line: the Map's order stays the order of `since`.
      this.waiting.delete(socket);
      this.waiting.set(socket, entry);
    });
  }

  private upgrade(socket: Socket): void {
    if (!this.waiting.delete(socket)) return;
    if (!socket.destroyed) this.upgraded.add(socket);
  }

  /** Closes the longest waiter, or `newcomer` when no other connection may be closed. */
  private makeRoom(newcomer: Socket): void {
    for (const [socket, entry] of this.waiting) {
      if (socket === newcomer) break; // everything before it is busy
      if (entry.request?.complete) continue; // being answered
      this.waiting.delete(socket);
      socket.destroy();
      this.options.onEvicted?.();
      return;
    }
    this.waiting.delete(newcomer);
    newcomer.destroy();
    this.options.onRefused?.();
  }
}
