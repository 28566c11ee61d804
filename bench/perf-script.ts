/**
 * Reads the text `perf script -F comm,pid,tid,cpu,time,event,trace` prints for a scheduler trace
 * (`perf record -e sched:sched_switch [-e sched:sched_wakeup] -a -k CLOCK_MONOTONIC`), line by line: a minute of trace can
 * pass what one string may hold. Used by bench/sched-tail.ts and bench/cpu-gaps.ts.
 */
import fs from 'node:fs';
import readline from 'node:readline';

/** A `sched:sched_switch`: on `cpu` at `at` (ms, the clock perf recorded with), one thread for another. */
export interface Switch {
  readonly cpu: number;
  readonly at: number;
  readonly prevComm: string;
  readonly prevTid: number;
  readonly nextComm: string;
  readonly nextTid: number;
}

/** A `sched:sched_wakeup` (at its event's `at`): thread `tid` was made runnable on CPU `target`. */
export interface Wakeup {
  readonly tid: number;
  readonly target: number;
}

/**
 * One event: the thread that recorded it (process and thread id; it was on `cpu` at `at`, ms) and,
 * for a switch or a wake-up, what it says.
 */
export interface TraceEvent {
  readonly pid: number;
  readonly tid: number;
  readonly cpu: number;
  readonly at: number;
  readonly switched?: Switch;
  readonly woken?: Wakeup;
}

const EVENT = /^\s*.+?\s+(\d+)\/(\d+)\s+\[(\d+)\]\s+([\d.]+):\s+(\S+):\s*(.*)$/;
// perf's raw form of the tracepoint; some builds print another ("comm:pid [prio] S ==> ..."), not read here.
const SWITCH = /prev_comm=(.*?) prev_pid=(\d+) .*==> next_comm=(.*?) next_pid=(\d+)/;
const WAKEUP = /comm=(.*?) pid=(\d+) prio=\S+ target_cpu=(\d+)/;

/** The events of `file`, in order. */
export async function* traceEvents(file: string): AsyncGenerator<TraceEvent> {
  for await (const line of readline.createInterface({ input: fs.createReadStream(file), crlfDelay: Infinity })) {
    const m = EVENT.exec(line);
    if (!m) continue;
    const event = { pid: Number(m[1]), tid: Number(m[2]), cpu: Number(m[3]), at: Number(m[4]) * 1000 };
    const s = m[5] === 'sched:sched_switch' ? SWITCH.exec(m[6]!) : null;
    const w = m[5] === 'sched:sched_wakeup' ? WAKEUP.exec(m[6]!) : null;
    if (s)
      yield {
        ...event,
        switched: { cpu: event.cpu, at: event.at, prevComm: s[1]!, prevTid: Number(s[2]), nextComm: s[3]!, nextTid: Number(s[4]) },
      };
    else if (w) yield { ...event, woken: { tid: Number(w[2]), target: Number(w[3]) } };
    else yield event;
  }
}
