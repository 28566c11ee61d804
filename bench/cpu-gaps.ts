/**
 * Time a running thread loses without being switched out: spins on one CPU for `--seconds`,
 * reading the monotonic clock, and lists every gap between two readings over `--gap-ms`. With a
 * scheduler trace of the same seconds (`--trace`, as bench/sched-tail.ts reads it), each gap is
 * put down either to the guest's scheduler (this thread was switched out in it: another task ran)
 * or to nothing the guest's scheduler shows (interrupts, or the host not running the vCPU). The
 * second kind is what the fifteenth session's unexplained slow deliveries looked like (bench/README.md,
 * "Who held the CPUs"). It takes a whole CPU: run it on an otherwise quiet machine, never beside a bench.
 *
 *   npx tsc -p .
 *   perf record -e sched:sched_switch -a -k CLOCK_MONOTONIC -o gaps.data -- sleep 62 &
 *   node dist/bench/cpu-gaps.js --seconds 60 > gaps.json    # as root, for perf
 *   perf script -i gaps.data -F comm,pid,tid,cpu,time,event,trace > gaps.txt
 *   node dist/bench/cpu-gaps.js --read gaps.json --trace gaps.txt
 *
 * Without perf: `node dist/bench/cpu-gaps.js --seconds 60 --summary` prints the gaps alone.
 */
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { traceEvents } from './perf-script.js';

interface Spin {
  readonly pid: number;
  readonly seconds: number;
  /** [monotonic ms at the reading before the gap, gap ms]. */
  readonly gaps: readonly (readonly [number, number])[];
}

const USAGE =
  'usage: node dist/bench/cpu-gaps.js --seconds N [--gap-ms 0.2] [--summary]  |  node dist/bench/cpu-gaps.js --read gaps.json --trace perf-script.txt';

/** Spins for `seconds`; returns every gap over `gapMs` between two readings of the monotonic clock. */
function spin(seconds: number, gapMs: number): Spin {
  const limit = BigInt(Math.round(gapMs * 1e6));
  const end = process.hrtime.bigint() + BigInt(Math.round(seconds * 1e9));
  const gaps: [number, number][] = [];
  let last = process.hrtime.bigint();
  for (;;) {
    const now = process.hrtime.bigint();
    if (now - last > limit) gaps.push([Number(last) / 1e6, Number(now - last) / 1e6]);
    last = now;
    if (now > end) break;
  }
  return { pid: process.pid, seconds, gaps };
}

/** The moments this process's (single) thread was switched in or out, ms on the monotonic clock. */
async function switchesOf(file: string, pid: number): Promise<number[]> {
  const at: number[] = [];
  for await (const { switched } of traceEvents(file))
    if (switched && (switched.prevTid === pid || switched.nextTid === pid)) at.push(switched.at);
  return at;
}

function describe(label: string, gaps: readonly (readonly [number, number])[]): string {
  const ms = gaps.reduce((sum, [, gap]) => sum + gap, 0);
  const longest = [...gaps]
    .map(([, gap]) => gap)
    .sort((a, b) => b - a)
    .slice(0, 8)
    .map((gap) => gap.toFixed(2));
  const over1 = gaps.filter(([, gap]) => gap > 1).length;
  return `${label}: ${gaps.length} (${ms.toFixed(1)} ms in all), ${over1} over 1 ms; the longest ${longest.join(', ') || '-'} ms`;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      seconds: { type: 'string' },
      'gap-ms': { type: 'string', default: '0.2' },
      summary: { type: 'boolean', default: false },
      read: { type: 'string' },
      trace: { type: 'string' },
    },
  });
  if (values.read) {
    if (!values.trace) throw new Error(`--read needs --trace\n${USAGE}`);
    const spun = JSON.parse(fs.readFileSync(values.read, 'utf8')) as Spin;
    const switches = await switchesOf(values.trace, spun.pid);
    if (switches.length === 0) throw new Error(`${values.trace}: no switch of process ${spun.pid} (was the trace recorded while it spun?)`);
    const seen = (at: number, gap: number) => switches.some((t) => t >= at - 0.01 && t <= at + gap + 0.01);
    console.log(`process ${spun.pid}, ${spun.seconds} s spinning; gaps between two readings of the clock:`);
    console.log(
      `  ${describe(
        'switched out (another task ran)',
        spun.gaps.filter(([at, gap]) => seen(at, gap)),
      )}`,
    );
    console.log(
      `  ${describe(
        'on the CPU all along, by the trace',
        spun.gaps.filter(([at, gap]) => !seen(at, gap)),
      )}`,
    );
    return;
  }
  const seconds = Number(values.seconds);
  const gapMs = Number(values['gap-ms']);
  if (!(seconds > 0) || !(gapMs > 0)) throw new Error(USAGE);
  const spun = spin(seconds, gapMs);
  if (values.summary) console.log(`process ${spun.pid}, ${seconds} s spinning; ${describe('gaps', spun.gaps)}`);
  else console.log(JSON.stringify(spun));
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
