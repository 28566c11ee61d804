/** A test (or the code under test) that writes to the console fails: logs go through the injected logger. */
for (const method of ['log', 'info', 'warn', 'error', 'debug'] as const) {
  jest.spyOn(console, method).mockImplementation((...args: unknown[]) => {
    throw new Error(`console.${method} called in a test: ${args.map(String).join(' ')}`);
  });
}
