// CPU time of the workerd processes a bench started (Linux /proc): user + system time, read before and after a phase.
import { readdirSync, readFileSync } from 'node:fs';

/** Clock ticks per second of /proc/<pid>/stat (USER_HZ; 100 on every Linux the bench runs on). */
const TICKS = 100;

/** The pids of live processes whose command name is `name` (e.g. workerd). */
export function pidsNamed(name) {
  const out = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() === name) out.push(Number(entry));
    } catch {
      // the process ended meanwhile
    }
  }
  return out;
}

/** The workerd process a start function launched: the one workerd pid that was not there before. */
export async function newWorkerdPid(start) {
  const before = new Set(pidsNamed('workerd'));
  const result = await start();
  const fresh = pidsNamed('workerd').filter((p) => !before.has(p));
  return { result, pids: fresh };
}

/** User + system CPU seconds of the processes `pids` so far (0 for one that ended). */
export function cpuSeconds(pids) {
  let ticks = 0;
  for (const pid of pids) {
    try {
      // Fields after the command name (which may hold spaces, so split after its closing parenthesis): utime is 14th, stime 15th of the line.
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // ended
    }
  }
  return ticks / TICKS;
}
