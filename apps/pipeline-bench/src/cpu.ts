// CPU time of processes and of this process, for "which component saturates which core".
import { readFileSync } from 'node:fs';

const TICKS_PER_SEC = 100; // USER_HZ on Linux

/** utime + stime of a process (or a thread: /proc/<pid>/task/<tid>) in seconds; NaN once it is gone. */
export function procCpuSec(pid: number, tid?: number): number {
  try {
    const path = tid === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${tid}/stat`;
    const stat = readFileSync(path, 'utf8');
    // Fields after the command name (which may contain spaces): state is field 3; utime 14, stime 15.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(rest[11]) + Number(rest[12])) / TICKS_PER_SEC;
  } catch {
    return NaN;
  }
}

/** CPU seconds of the main thread of this process (excludes worker threads). */
export function mainThreadCpuSec(): number {
  return procCpuSec(process.pid, process.pid);
}

export function loadAverage(): string {
  try {
    return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  } catch {
    return 'n/a';
  }
}

/** Total busy CPU seconds of the machine (all cores) so far, from /proc/stat. */
export function machineBusySec(): number {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    const idle = (line[3] ?? 0) + (line[4] ?? 0);
    const total = line.reduce((a, b) => a + b, 0);
    return (total - idle) / TICKS_PER_SEC;
  } catch {
    return NaN;
  }
}
