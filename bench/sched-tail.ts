/**
 * Who held the CPUs while the slowest member deliveries waited: reads a scheduler trace of a
 * `bench/fanout.ts --members` run and the run's output, and for each server's slowest deliveries
 * from the answer (the line "slowest from the answer", on the machine's monotonic clock) adds up,
 * on every CPU, who ran from the answer's writing to the member's read: that server, its client
 * (the lane's process, which also reads the answer), the other lane's processes, PostgreSQL, the
 * kernel's threads, other programs on the machine, or nobody (idle).
 *
 * Only a run at once (the default: each lane's lines tagged `[ours]` / `[bare]`); with `--apart`
 * the two servers' lines cannot be told apart and it stops. Usage, as root (perf), the stream
 * traced on the monotonic clock the bench stamps with (~50 s at the defaults):
 *
 *   npx tsc -p .
 *   node dist/bench/fanout.js --members 10000 --events 1000 --db postgres --batch 50 > run.log &
 *   # once both lanes log "member events at 100/s, all delivered":
 *   perf record -e sched:sched_switch -e sched:sched_wakeup -a -k CLOCK_MONOTONIC -o sched.data -- sleep 70
 *   perf script -i sched.data -F comm,pid,tid,cpu,time,event,trace > sched.txt
 *   node dist/bench/sched-tail.js --trace sched.txt --log run.log
 *
 * The figures are CPU-ms, summed over the CPUs and a process's threads: in a 4 ms window on two
 * vCPUs, 8 ms in all. A switch whose outgoing thread is not the one the trace last put on that CPU
 * (a switch perf did not record) leaves a stretch of unknown owner: it is counted as "untraced".
 * On the machines these benches ran on, the VM agent's threads (`/process_api`, named
 * `tokio-rt-worker`, at nice -10) are never recorded as the thread switched out: in one 70 s trace,
 * none of 244 switches to them had a matching switch away (bench/README.md, sixteenth session). So
 * "untraced (after tokio-rt-worker)" runs from the agent's switch-in to the next switch the trace
 * has on that CPU: at most what the agent held, which may include idle time after it.
 *
 * It also lists the passes of the kernel's DAMON thread (`kdamond`), when the trace has any: on the
 * machine these benches were measured on, it ran every ~0.5 s (DAMON sampling every 500 ms there)
 * for ~8 ms on one of the two vCPUs (bench/README.md, "Who held the CPUs"). `--kdamond-gap-ms`
 * (100) groups its stretches into passes; with a shorter sampling interval, give a shorter gap.
 */
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { traceEvents } from './perf-script.js';

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
/** The thread id of a stretch whose owner the trace does not say. */
const UNTRACED = -1;

/** A wake-up of a watched thread until it ran (ms, monotonic). */
interface Wait {
  readonly tid: number;
  readonly from: number;
  readonly to: number;
  /** The CPU it was woken onto. */
  readonly cpu: number;
  /**
   * False when the trace has no switch to it: the wait ends at its next event, after it has run
   * a little (after the VM agent's threads, whose switches away are never traced): an upper bound.
   */
  readonly switchedIn: boolean;
}

/**
 * The stretches of every thread on every CPU, and which process each thread belongs to, read line
 * by line (a trace of a minute can pass what one string may hold). `untraced`: switches whose
 * outgoing thread was not the one on that CPU; their stretch is kept with an unknown owner.
 * `waits`: with `sched:sched_wakeup` in the trace, each wake-up of a thread of `watch` (the
 * lanes' clients' main threads) until the thread is seen running (switched in, or recording an
 * event: its switch-in may be one the trace misses).
 */
async function readTrace(
  file: string,
  watch: ReadonlySet<number>,
): Promise<{ stretches: Stretch[]; pidOf: Map<number, number>; untraced: number; waits: Wait[] }> {
  const pidOf = new Map<number, number>();
  const running = new Map<number, { tid: number; comm: string; from: number }>();
  const stretches: Stretch[] = [];
  let untraced = 0;
  const waits: Wait[] = [];
  const woken = new Map<number, { at: number; cpu: number }>();
  const ran = (tid: number, at: number, switchedIn: boolean) => {
    const wake = woken.get(tid);
    if (!wake) return;
    woken.delete(tid);
    waits.push({ tid, from: wake.at, to: at, cpu: wake.cpu, switchedIn });
  };
  for await (const { pid, tid, at: eventAt, switched, woken: wakeup } of traceEvents(file)) {
    pidOf.set(tid, pid);
    if (switched) ran(switched.nextTid, switched.at, true);
    ran(tid, eventAt, false);
    if (wakeup && watch.has(wakeup.tid) && !woken.has(wakeup.tid) && running.get(wakeup.target)?.tid !== wakeup.tid)
      woken.set(wakeup.tid, { at: eventAt, cpu: wakeup.target });
    if (!switched) continue;
    const { cpu, at } = switched;
    const on = running.get(cpu);
    // The first switch seen on a CPU has no start: the stretch before it is not counted.
    if (on && on.tid === switched.prevTid) stretches.push({ cpu, tid: on.tid, comm: on.comm, from: on.from, to: at });
    else if (on) {
      untraced += 1;
      stretches.push({ cpu, tid: UNTRACED, comm: `untraced (after ${on.comm})`, from: on.from, to: at });
    }
    running.set(cpu, { tid: switched.nextTid, comm: switched.nextComm, from: at });
  }
  return { stretches, pidOf, untraced, waits };
}

/** The lanes' processes and slowest deliveries, from the bench's output (`[ours]`/`[bare]` prefixes at once). */
function readLanes(file: string): Lane[] {
  const lanes = new Map<string, { client?: number; server?: number; slowest?: Lane['slowest'] }>();
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const label = /^\[([^\]]+)\]/.exec(line)?.[1] ?? '';
    const lane = lanes.get(label) ?? {};
    const processes = /processes: client (\d+), server (\d+)/.exec(line);
    if (processes && lane.server)
      throw new Error(`${file}: two servers' lines untagged (a run with --apart or --only twice?): only a run at once can be read`);
    if (processes) Object.assign(lane, { client: Number(processes[1]), server: Number(processes[2]) });
    if (line.includes('slowest from the answer (monotonic ms'))
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
  if (stretch.tid === UNTRACED) return stretch.comm;
  const thread = (who: string) => (stretch.tid === pid ? `${who} (main thread)` : `${who} (other threads)`);
  if (pid === lane.server) return thread('its server');
  if (pid === lane.client) return thread('its client');
  for (const other of others) {
    if (pid === other.server) return thread(`${other.label}'s server`);
    if (pid === other.client) return thread(`${other.label}'s client`);
  }
  if (stretch.comm.startsWith('postgres')) return 'postgres';
  if (stretch.comm.startsWith('kdamond')) return 'kdamond (kernel)';
  if (/^(kworker|ksoftirqd|rcu_|migration|kswapd|kcompactd|khugepaged|kthreadd|jbd2|cpuhp|watchdog|irq\/)/.test(stretch.comm))
    return 'other kernel threads';
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

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { trace: { type: 'string' }, log: { type: 'string' }, 'kdamond-gap-ms': { type: 'string', default: '100' } },
  });
  const gapMs = Number(values['kdamond-gap-ms']);
  if (!values.trace || !values.log || !(gapMs > 0)) {
    console.error(USAGE);
    process.exit(2);
  }
  const lanes = readLanes(values.log);
  const { stretches, pidOf, untraced, waits } = await readTrace(values.trace, new Set(lanes.map((lane) => lane.client)));
  if (stretches.length === 0)
    throw new Error(
      `${values.trace}: no sched:sched_switch events read (perf script -F comm,pid,tid,cpu,time,event,trace; the raw "prev_comm=... ==> next_comm=..." form)`,
    );
  if (lanes.length === 0)
    throw new Error(`${values.log}: no "processes:" and "slowest from the answer" lines (a bench/fanout.ts --members run at once)`);
  // (Not Math.min(...): a long trace has more stretches than a call may take arguments.)
  const start = stretches.reduce((min, s) => Math.min(min, s.from), Infinity);
  const end = stretches.reduce((max, s) => Math.max(max, s.to), -Infinity);
  const cpus = new Set(stretches.map((s) => s.cpu)).size;
  console.log(
    `trace: ${stretches.length} stretches on ${cpus} CPUs, ${((end - start) / 1000).toFixed(1)} s (monotonic ${start.toFixed(0)}–${end.toFixed(0)} ms)` +
      (untraced ? `; ${untraced} switches left a stretch of unknown owner ("untraced")` : ''),
  );
  const passes = kdamondPasses(stretches, gapMs);
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
        `from the answer written to the member's read, CPU-ms by who held the CPUs (summed over the ${cpus} CPUs and each process's threads):`,
    );
    if (covered.length === 0) {
      const [first, last] = [lane.slowest[0], lane.slowest[lane.slowest.length - 1]];
      console.log(
        `  none: the deliveries fall at monotonic ${first?.answered.toFixed(0)}…${last?.answered.toFixed(0)} ms; was the trace recorded over the stream, with -k CLOCK_MONOTONIC?`,
      );
      continue;
    }
    const total = new Map<string, number>();
    /** In how many of the deliveries each held CPUs for 1 ms or more in all. */
    const often = new Map<string, number>();
    let duringPass = 0;
    for (const d of covered) {
      const held = new Map<string, number>();
      let seen = 0;
      for (const s of stretches) {
        const from = Math.max(s.from, d.answered);
        const to = Math.min(s.to, d.read);
        if (to <= from) continue;
        const who = owner(s, pidOf.get(s.tid) ?? s.tid, lane, others);
        held.set(who, (held.get(who) ?? 0) + to - from);
        total.set(who, (total.get(who) ?? 0) + to - from);
        seen += to - from;
      }
      for (const [who, ms] of held) if (ms >= 1) often.set(who, (often.get(who) ?? 0) + 1);
      const pass = passes.some((p) => p.from < d.read && p.to > d.answered);
      if (pass) duringPass += 1;
      // What no stretch covers (a CPU's first switch after the window opened, say).
      const missing = cpus * (d.read - d.answered) - seen;
      const parts = [...held].sort((a, b) => b[1] - a[1]).map(([who, ms]) => `${who} ${fmt(ms)}`);
      console.log(
        `  #${d.index} ${fmt(d.ms)} ms: ${parts.join(', ')}${missing > 0.1 ? `; not in the trace ${fmt(missing)}` : ''}${pass ? '; kdamond ran in it' : ''}`,
      );
    }
    const sum = [...total.values()].reduce((a, b) => a + b, 0);
    const byShare = [...total].sort((a, b) => b[1] - a[1]);
    console.log(
      `  share of the CPU-ms in these windows: ${byShare.map(([who, ms]) => `${who} ${((100 * ms) / sum).toFixed(0)}%`).join(', ')}`,
    );
    console.log(
      `  held CPUs for 1 ms or more in all, in (of ${covered.length}): ${[...often]
        .sort((a, b) => b[1] - a[1])
        .map(([who, k]) => `${who} ${k}`)
        .join(', ')}; kdamond ran in ${duringPass}`,
    );
  }
  printWaits(lanes, waits, stretches, pidOf);
}

/**
 * Over the whole trace, how long each lane's client's main thread took to run once woken (a
 * frame, an answer or a ping on one of its sockets), and, for the waits of 1 ms or more, who ran
 * on the CPU it was woken onto during the wait (the most CPU-ms of it) and whether another CPU
 * was idle for most of the wait.
 */
function printWaits(
  lanes: readonly Lane[],
  waits: readonly Wait[],
  stretches: readonly Stretch[],
  pidOf: ReadonlyMap<number, number>,
): void {
  if (waits.length === 0) {
    console.log('\nno wake-ups of the clients in the trace (record -e sched:sched_wakeup too for their waits)');
    return;
  }
  console.log("\nthe clients' main threads over the whole trace, from each wake-up to running (ms):");
  for (const lane of lanes) {
    const others = lanes.filter((o) => o !== lane);
    const mine = waits.filter((w) => w.tid === lane.client);
    const sorted = mine.map((w) => w.to - w.from).sort((a, b) => a - b);
    const at = (q: number) => fmt(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN);
    const long = mine.filter((w) => w.to - w.from >= 1);
    const by = new Map<string, { idle: number; all: number }>();
    for (const w of long) {
      const held = new Map<string, number>();
      let idleElsewhere = 0;
      for (const st of stretches) {
        const overlap = Math.min(st.to, w.to) - Math.max(st.from, w.from);
        if (overlap <= 0) continue;
        if (st.cpu === w.cpu) {
          const who = owner(st, pidOf.get(st.tid) ?? st.tid, lane, others);
          held.set(who, (held.get(who) ?? 0) + overlap);
        } else if (st.tid === 0) idleElsewhere += overlap;
      }
      const who = [...held].sort((a, b) => b[1] - a[1])[0]?.[0] ?? 'not in the trace';
      const count = by.get(who) ?? { idle: 0, all: 0 };
      count.all += 1;
      if (idleElsewhere >= (w.to - w.from) / 2) count.idle += 1;
      by.set(who, count);
    }
    const bounds = mine.filter((w) => !w.switchedIn).length;
    console.log(
      `  ${lane.label}'s client: ${mine.length} wake-ups, p50 ${at(0.5)}, p99 ${at(0.99)}, max ${at(1)}; ` +
        `${long.length} waited 1 ms or more (${sorted.filter((ms) => ms >= 2).length} 2 ms or more)` +
        (long.length === 0
          ? ''
          : `; who ran on the CPU it was woken onto, most of the wait: ${[...by]
              .sort((a, b) => b[1].all - a[1].all)
              .map(([who, { idle, all }]) => `${who} ${all} (another CPU idle most of it in ${idle})`)
              .join(', ')}`) +
        (bounds > 0
          ? `; ${bounds} of the wake-ups had no traced switch-in: their wait runs to the client's next event (an upper bound)`
          : ''),
    );
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
