/** One element of a delivery as it stands in the event log: plain data, safe to publish anywhere. */
export interface LoggedEvent {
  readonly seq: number;
  readonly uuid: string;
  readonly position: number;
  readonly studioId: number;
  readonly tenantId: number;
  readonly type: string;
  /** Whether `type` is one this version declares (src/events/event-catalog.ts). */
  readonly known: boolean;
  readonly entityId: number;
  readonly content: Readonly<Record<string, unknown>> | null;
  /** Upstream time, epoch ms. */
  readonly occurredAt: number;
  /** When this service stored it, epoch ms. */
  readonly receivedAt: number;
}
