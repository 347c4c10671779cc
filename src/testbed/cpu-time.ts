/**
 * CPU time of a process, for the benchmarks that print a forwarder's cost beside its figures: the sum
 * over its threads of the time on CPU that /proc/PID/task/TID/schedstat reports (ns, user + system,
 * as the scheduler accounts it). 0 when the process is unknown or gone.
 */
import { readFileSync, readdirSync } from 'node:fs';

export function processCpuNanos(pid: number | undefined): number {
  if (!pid) return 0;
  try {
    let total = 0;
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      total += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
    }
    return total;
  } catch {
    return 0;
  }
}
