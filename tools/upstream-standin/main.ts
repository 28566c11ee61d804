import { parseArgs } from 'node:util';
import { startStandin } from './server.js';
import { World } from './world.js';

/**
 * `npm run upstream -- [--port N] [--seed N] ...`: runs the stand-in upstream for demos, prints the
 * studios' keys and the commands that register them, and optionally posts the world's webhook
 * stream to a running gymgraph (`--send http://127.0.0.1:4000`, `--drop 0.05` to lose some).
 */
const USAGE = `usage: npm run upstream -- [options]

  --port <n>            port on 127.0.0.1 (default 4100; 0 = any)
  --seed <n>            world seed (default 1)
  --studios <n>         studios of the tenant (default 3)
  --customers <n>       customers per studio (default 20)
  --days <n>            days of history, ending now (default 14)
  --limit <n>           requests per endpoint per window before 429 (default 1000)
  --window-ms <n>       rate window (default 60000)
  --failure-rate <x>    share of requests answered 503 (default 0)
  --send <url>          post the webhook stream to this gymgraph (e.g. http://127.0.0.1:4000)
  --drop <x>            with --send: share of deliveries lost on the way (default 0)
  --auto-checkout       at the end of the history each studio checks out whoever is still in
                        (one AUTOMATIC_CUSTOMER_CHECKOUT per studio, as at closing time)
  --sister-events       the history also has the other 23 types the sister platform (Magicline)
                        documents: access, home studio, contract cancellations, idle periods,
                        additional modules, employees, studio hours and settings, debt cases`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string' },
      seed: { type: 'string' },
      studios: { type: 'string' },
      customers: { type: 'string' },
      days: { type: 'string' },
      limit: { type: 'string' },
      'window-ms': { type: 'string' },
      'failure-rate': { type: 'string' },
      send: { type: 'string' },
      drop: { type: 'string' },
      'auto-checkout': { type: 'boolean' },
      'sister-events': { type: 'boolean' },
      help: { type: 'boolean' },
    },
  });
  const out = (line: string): void => void process.stdout.write(`${line}\n`);
  if (values.help) {
    out(USAGE);
    return;
  }
  const num = (name: keyof typeof values, fallback: number) => {
    const raw = values[name];
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!Number.isFinite(value) || value < 0) throw new Error(`--${name} must be a non-negative number, got ${JSON.stringify(raw)}`);
    return value;
  };

  // History ends at the current minute, so reconciliation's default look-back covers it.
  const endAt = Math.floor(Date.now() / 60_000) * 60_000;
  const world = new World({
    seed: num('seed', 1),
    studios: num('studios', 3),
    customersPerStudio: num('customers', 20),
    days: num('days', 14),
    endAt,
    sisterEvents: values['sister-events'] === true,
  });
  if (values['auto-checkout']) for (const studio of world.studios) world.automaticCheckout(studio.id, endAt);
  const standin = await startStandin({
    world,
    port: num('port', 4100),
    limitPerWindow: num('limit', 1000),
    windowMs: num('window-ms', 60_000),
    failureRate: num('failure-rate', 0),
  });

  out(
    `stand-in upstream for one tenant at ${standin.baseUrl} (seed ${world.seed}, ${world.customers.size} customers, ${world.deliveries.length} webhook deliveries)`,
  );
  out('');
  out('register its studios with gymgraph:');
  for (const studio of world.studios) {
    out(
      `  npm run studio -- add --name "${studio.name}" --webhook-key ${studio.webhookKey} --api-key ${studio.apiKey} --tenant-url ${standin.baseUrl}`,
    );
  }
  out('');
  out('then reconcile one:  npm run reconcile -- --studio <id>');

  if (values.send) {
    const target = values.send.replace(/\/+$/, '');
    const { delivered, dropped } = world.webhookStream({ dropFraction: num('drop', 0) });
    let failed = 0;
    for (const delivery of delivered) {
      const response = await fetch(`${target}/webhooks`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': delivery.webhookKey },
        body: JSON.stringify(delivery.body),
      }).catch(() => undefined);
      if (response?.status !== 200) failed += 1;
      await response?.body?.cancel();
    }
    out('');
    out(`posted ${delivered.length} deliveries to ${target}/webhooks (${failed} not answered 200), dropped ${dropped.length} on purpose`);
  }
  out('');
  out('serving; Ctrl-C stops');
  const stop = () => void standin.close().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error: unknown) => {
  process.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n\n${USAGE}\n`);
  process.exit(2);
});
