import type { Logger } from './log.js';

/**
 * What is open, closed in reverse order of opening: what `start()` opens registers its closing here
 * as soon as it is open, so a start that fails half-way and a full stop undo the same list.
 */
export class DisposerStack {
  private readonly stack: { readonly name: string; readonly dispose: () => Promise<void> | void }[] = [];

  constructor(private readonly logger: Logger) {}

  /** Registers how to close what was just opened; `name` is for the log. */
  defer(name: string, dispose: () => Promise<void> | void): void {
    this.stack.push({ name, dispose });
  }

  /**
   * Closes everything, newest first, each once. A failing step is logged and the rest still run;
   * `quiet` (a start that failed: the caller reports the cause) logs at debug level.
   */
  async disposeAll(quiet = false): Promise<void> {
    for (let step = this.stack.pop(); step; step = this.stack.pop()) {
      try {
        await step.dispose();
      } catch (error) {
        if (quiet) this.logger.debug({ err: error, step: step.name }, 'closing after a failed start');
        else this.logger.error({ err: error, step: step.name }, 'shutdown step failed');
      }
    }
  }
}
