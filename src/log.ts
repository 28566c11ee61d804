import pino from 'pino';

export type Logger = pino.Logger;

/** Structured JSON logs on stdout. The logger is created once in main and injected everywhere else. */
export function createLogger(level: pino.LevelWithSilent, bindings: Record<string, unknown> = {}): Logger {
  return pino({ level, base: { service: 'gymgraph', ...bindings } });
}
