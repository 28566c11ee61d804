/**
 * Who held the CPUs while the slowest member deliveries waited: reads a scheduler trace of a
 * `bench/fanout.ts --members` run and the run's output, and for each server's slowest deliveries
 * from the answer (the line "slowest from the answer", on the machine's monotonic clock) adds up,
 * on every CPU, who ran from the answer's writing to the member's read: that server, its client
 * (the lane's process, which also reads the answer), the other lane's processes, PostgreSQL, the
 * kernel's threads, other programs on the machine, or nobody (idle).
 *
 * Usage (as root; the trace must cover the stream, ~50 s at the defaults, and use the monotonic clock):
 *
 *   node dist/bench/fanout.js --members 10000 --events 1000 --db postgres --batch 50 > run.log &
 *   # once both lanes log "member events at 100/s, all delivered":
 *   perf record -e sched:sched_switch -a -k CLOCK_MONOTONIC -o sched.data -- sleep 70
 *   perf script -i sched.data -F comm,pid,tid,cpu,time,event,trace > sched.txt
 *   node dist/bench/sched-tail.js --trace sched.txt --log run.log
 *
 * It also lists the passes of the kernel's DAMON thread (`kdamond`), when the trace has any: on the
 * machine these benches were measured on, it ran every ~0.5 s for ~8 ms on one of the two vCPUs
 * (bench/README.md, "Who held the CPUs").
 */
import fs from 'node:fs';
import { parseArgs } from 'node:util';

/** One stretch of a thread on a CPU (ms, monotonic). */
interface Stretch {
  readonly cpu: number;
  readonly tid: number;
  readonly comm: string;
  readonly from: number;
  readonly to: number;
}

interface Lane {
  readonly label: string;
  readonly client: number;
  readonly server: number;
  readonly slowest: { readonly index: number; readonly ms: number; readonly answered: number; readonly read: number }[];
}

const USAGE = "usage: node dist/bench/sched-tail.js --trace <perf script output> --log <the bench run's output> [--kdamond-gap-ms N]";
const SWITCH =
  /^\s*(.+?)\s+(\d+)\/(\d+)\s+\[(\d+)\]\s+([\d.]+):\s+sched:sched_switch:\s+prev_comm=(.*?) prev_pid=(\d+) .*==> next_comm=(.*?) next_pid=(\d+)/;
const ANY_EVENT = /^\s*.+?\s+(\d+)\/(\d+)\s+\[\d+\]\s+[\d.]+:/;

/** The stretches of every thread on every CPU, and which process each thread belongs to. */
function readTrace(file: string): { stretches: Stretch[]; pidOf: Map<number, number> } {
  const pidOf = new Map<number, number>();
  const running = new Map<number, { tid: number; comm: string; from: number }>();
  const stretches: Stretch[] = [];
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const any = ANY_EVENT.exec(line);
    if (any) pidOf.set(Number(any[2]), Number(any[1]));
    const m = SWITCH.exec(line);
    if (!m) continue;
    const cpu = Number(m[4]);
    const at = Number(m[5]) * 1000;
    const on = running.get(cpu);
    // The first switch seen on a CPU has no start: the stretch before it is not counted.
    if (on && on.tid === Number(m[7])) stretches.push({ cpu, tid: on.tid, comm: on.comm, from: on.from, to: at });
    running.set(cpu, { tid: Number(m[9]), comm: m[8]!, from: at });
  }
  return { stretches, pidOf };
}

/** The lanes' processes and slowest deliveries, from the bench's output (`[ours]`/`[bare]` prefixes at once). */
function readLanes(file: string): Lane[] {
  const lanes = new Map<string, { client?: number; server?: number; slowest?: Lane['slowest'] }>();
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const label = /^\[([^\]]+)\]/.exec(line)?.[1] ?? '';
    const lane = lanes.get(label) ?? {};
    const processes = /processes: client (\d+), server (\d+)/.exec(line);
    if (processes) Object.assign(lane, { client: Number(processes[1]), server: Number(processes[2]) });
    if (line.includes('slowest from the answer'))
      lane.slowest = [...line.matchAll(/#(\d+) ([\d.]+) ms \(([\d.]+), ([\d.]+), ([\d.]+)\)/g)].map((m) => ({
        index: Number(m[1]),
        ms: Number(m[2]),
        answered: Number(m[3]),
        read: Number(m[5]),
      }));
    lanes.set(label, lane);
  }
  return [...lanes]
    .filter(([, lane]) => lane.client && lane.server && lane.slowest)
    .map(([label, lane]) => ({ label: label || 'run', client: lane.client!, server: lane.server!, slowest: lane.slowest! }));
}

/** Whom a thread's time is put down to, seen from `lane`. */
function owner(stretch: Stretch, pid: number, lane: Lane, others: readonly Lane[]): string {
  if (stretch.tid === 0) return 'idle';
  const thread = (who: string) => (stretch.tid === pid ? `${who} (main thread)` : `${who} (other threads)`);
  if (pid === lane.server) return thread('its server');
  if (pid === lane.client) return thread('its client');
  for (const other of others) {
    if (pid === other.server) return thread(`${other.label}'s server`);
    if (pid === other.client) return thread(`${other.label}'s client`);
  }
  if (stretch.comm.startsWith('postgres')) return 'postgres';
  if (stretch.comm.startsWith('kdamond')) return 'kdamond (kernel)';
  if (/^(kworker|ksoftirqd|rcu_|migration|kswapd)/.test(stretch.comm)) return 'other kernel threads';
  return `other: ${stretch.comm}`;
}

/** Passes of kdamond: its stretches grouped when less than `gapMs` apart. */
function kdamondPasses(stretches: readonly Stretch[], gapMs: number): { from: number; to: number; cpuMs: number }[] {
  const passes: { from: number; to: number; cpuMs: number }[] = [];
  for (const s of stretches.filter((s) => s.comm.startsWith('kdamond')).sort((a, b) => a.from - b.from)) {
    const last = passes[passes.length - 1];
    if (last && s.from - last.to < gapMs) {
      last.to = s.to;
      last.cpuMs += s.to - s.from;
    } else passes.push({ from: s.from, to: s.to, cpuMs: s.to - s.from });
  }
  return passes;
}

const median = (values: number[]) => values.sort((a, b) => a - b)[values.length >> 1] ?? NaN;
const fmt = (ms: number) => (ms >= 10 ? ms.toFixed(1) : ms.toFixed(2));

function main(): void {
  const { values } = parseArgs({
    options: { trace: { type: 'string' }, log: { type: 'string' }, 'kdamond-gap-ms': { type: 'string', default: '100' } },
  });
  if (!values.trace || !values.log) {
    console.error(USAGE);
    process.exit(2);
  }
  const { stretches, pidOf } = readTrace(values.trace);
  const lanes = readLanes(values.log);
  if (stretches.length === 0)
    throw new Error(`${values.trace}: no sched:sched_switch events (perf script -F comm,pid,tid,cpu,time,event,trace)`);
  if (lanes.length === 0)
    throw new Error(`${values.log}: no "processes:" and "slowest from the answer" lines (a bench/fanout.ts --members run)`);
  // (Not Math.min(...): a long trace has more stretches than a call may take arguments.)
  const start = stretches.reduce((min, s) => Math.min(min, s.from), Infinity);
  const end = stretches.reduce((max, s) => Math.max(max, s.to), -Infinity);
  console.log(
    `trace: ${stretches.length} stretches on ${new Set(stretches.map((s) => s.cpu)).size} CPUs, ${((end - start) / 1000).toFixed(1)} s`,
  );
  const passes = kdamondPasses(stretches, Number(values['kdamond-gap-ms']));
  if (passes.length > 1)
    console.log(
      `kdamond: ${passes.length} passes, every ${fmt(median(passes.slice(1).map((p, i) => p.from - passes[i]!.from)))} ms (median), ` +
        `${fmt(median(passes.map((p) => p.cpuMs)))} ms of CPU each (median; longest ${fmt(Math.max(...passes.map((p) => p.cpuMs)))}), ` +
        `${((100 * passes.reduce((sum, p) => sum + p.cpuMs, 0)) / (end - start)).toFixed(1)}% of one CPU`,
    );
  for (const lane of lanes) {
    const others = lanes.filter((other) => other !== lane);
    const covered = lane.slowest.filter((d) => d.answered >= start && d.read <= end);
    console.log(
      `\n${lane.label} (client ${lane.client}, server ${lane.server}): ${covered.length} of its ${lane.slowest.length} slowest deliveries in the trace; ` +
        "from the answer written to the member's read, who held each CPU (ms):",
    );
    const total = new Map<string, number>();
    /** In how many of the deliveries each held a CPU for 1 ms or more. */
    const often = new Map<string, number>();
    let duringPass = 0;
    for (const d of covered) {
      const held = new Map<string, number>();
      for (const s of stretches) {
        const from = Math.max(s.from, d.answered);
        const to = Math.min(s.to, d.read);
        if (to <= from) continue;
        const who = owner(s, pidOf.get(s.tid) ?? s.tid, lane, others);
        held.set(who, (held.get(who) ?? 0) + to - from);
        total.set(who, (total.get(who) ?? 0) + to - from);
      }
      for (const [who, ms] of held) if (ms >= 1) often.set(who, (often.get(who) ?? 0) + 1);
      const pass = passes.some((p) => p.from < d.read && p.to > d.answered);
      if (pass) duringPass += 1;
      const parts = [...held].sort((a, b) => b[1] - a[1]).map(([who, ms]) => `${who} ${fmt(ms)}`);
      console.log(`  #${d.index} ${fmt(d.ms)} ms: ${parts.join(', ')}${pass ? '; kdamond ran in it' : ''}`);
    }
    const sum = [...total.values()].reduce((a, b) => a + b, 0);
    const byShare = [...total].sort((a, b) => b[1] - a[1]);
    console.log(
      `  share of the CPU time in these windows: ${byShare.map(([who, ms]) => `${who} ${((100 * ms) / sum).toFixed(0)}%`).join(', ')}`,
    );
    console.log(
      `  held a CPU for 1 ms or more in (of ${covered.length}): ${[...often]
        .sort((a, b) => b[1] - a[1])
        .map(([who, k]) => `${who} ${k}`)
        .join(', ')}; kdamond ran in ${duringPass}`,
    );
  }
}

main();
