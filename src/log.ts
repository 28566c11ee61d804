import pino from 'pino';

export type Logger = pino.Logger;

/** Structured JSON logs on stdout. The logger is created once in main and injected everywhere else. */
export function createLogger(level: pino.LevelWithSilent, bindings: Record<string, unknown> = {}): Logger {
  return pino({ level, base: { service: 'gymgraph', ...bindings } });
}

/** How often one repeated line is written at most, by default. */
export const REPEAT_INTERVAL_MS = 10_000;

/**
 * Log lines that can repeat many times a second (a dependency that is down, clients that vanish)
 * are written once per interval and key: the first occurrence at once, then at most one line per
 * interval carrying `repeated`, the number of occurrences since the previous line. Keys are the
 * caller's (a fixed string, or a small set such as an error code): never ids or free text.
 */
export class RepeatedLog {
  private readonly seen = new Map<string, { last: number; count: number }>();

  constructor(
    private readonly logger: Logger,
    private readonly intervalMs: number = REPEAT_INTERVAL_MS,
    private readonly now: () => number = Date.now,
  ) {}

  error(key: string, fields: Record<string, unknown>, message: string): void {
    this.write('error', key, fields, message);
  }

  warn(key: string, fields: Record<string, unknown>, message: string): void {
    this.write('warn', key, fields, message);
  }

  info(key: string, fields: Record<string, unknown>, message: string): void {
    this.write('info', key, fields, message);
  }

  private write(level: 'error' | 'warn' | 'info', key: string, fields: Record<string, unknown>, message: string): void {
    const now = this.now();
    const entry = this.seen.get(key);
    if (entry && now - entry.last < this.intervalMs) {
      entry.count += 1;
      return;
    }
    const repeated = entry ? entry.count : 0;
    this.seen.set(key, { last: now, count: 0 });
    // Bounded: keys are a small fixed set per caller, but never let a mistake grow it without end.
    if (this.seen.size > 1000) this.seen.clear();
    this.logger[level](repeated > 0 ? { ...fields, repeated } : fields, message);
  }
}
