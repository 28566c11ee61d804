import pino from 'pino';

export type Logger = pino.Logger;

/**
 * Structured JSON logs on stdout (`fd` 2: on stderr, for a command whose stdout is its answer). The
 * logger is created once in main and injected everywhere else.
 */
export function createLogger(level: pino.LevelWithSilent, bindings: Record<string, unknown> = {}, fd: 1 | 2 = 1): Logger {
  const options = { level, base: { service: 'gymgraph', ...bindings } };
  return fd === 2 ? pino(options, pino.destination(2)) : pino(options);
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

/**
 * Names of fields whose values are secrets, masked wherever they appear in what {@link masked} is
 * given: `…Token` (not a limit `…PerToken`), `…Password`, `…Secret`, `…ApiKey`, `…Credentials`.
 */
function isSecretField(name: string): boolean {
  return /(password|secret|api-?key|credentials?)$/i.test(name) || (/token$/i.test(name) && !/pertoken$/i.test(name));
}

/**
 * A copy of `value` fit for the log: fields named like a secret (`adminToken`, `metricsToken`,
 * `apiKey`, `password`...) say only whether they are set (`"[set]"`), and the password of any URL
 * (`postgres://user:pw@host`, `redis://:pw@host`, `?password=`) is replaced by `***`; unset fields are `null`.
 * For the start-up line, which writes the whole configuration.
 */
export function masked(value: unknown, key = ''): unknown {
  // Unset is null, so that the line lists every field (JSON drops undefined ones).
  if (value === undefined || value === null || value === '') return value ?? null;
  if (isSecretField(key)) return '[set]';
  if (typeof value === 'string') return maskUrlPassword(value);
  if (Array.isArray(value)) return value.map((item) => masked(item));
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([name, field]) => [name, masked(field, name)]));
  }
  return value;
}

function maskUrlPassword(text: string): string {
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) return text;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    // Not a URL after all: if it is shaped like one with credentials, keep no more than the scheme.
    return /@|password|secret|token/i.test(text) ? text.replace(/:\/\/.*$/s, '://***') : text;
  }
  let changed = false;
  if (url.password !== '') {
    url.password = '***';
    changed = true;
  }
  // `postgres://host/db?password=…` is a password too.
  for (const name of [...url.searchParams.keys()]) {
    if (isSecretField(name) || /^pass/i.test(name)) {
      url.searchParams.set(name, '***');
      changed = true;
    }
  }
  return changed ? url.toString() : text;
}
