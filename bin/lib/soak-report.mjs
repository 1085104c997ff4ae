// The soak run's helpers that need none of its state: workerd memory from /proc, and the markdown report.
import { readdirSync, readFileSync } from 'node:fs';

/** The ids of a process's direct children. */
function childrenOf(pid) {
  const out = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) out.push(Number(entry));
    } catch {
      // the process ended
    }
  }
  return out;
}

/** RSS in MiB of every workerd process under the wrangler dev process. */
export function workerdRss(rootPid) {
  let kib = 0;
  const queue = [rootPid];
  while (queue.length > 0) {
    const pid = queue.shift();
    for (const child of childrenOf(pid)) {
      queue.push(child);
      try {
        if (readFileSync(`/proc/${child}/comm`, 'utf8').trim() === 'workerd') kib += Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child}/status`, 'utf8'))?.[1] ?? 0);
      } catch {
        // the process ended
      }
    }
  }
  return Math.round(kib / 1024);
}

/** The soak report as markdown: the figures, errors by kind, the first errors, RSS over time. */
export function soakMarkdown({ stamp, report, pass, memory, errorKinds, errorSamples }) {
  const { counts, config, audit } = report;
  const SESSIONS = config.sessions;
  const PEOPLE = config.people;
  const RESTART = config.restart;
  const elapsed = config.durationSeconds * 1000;
  return [
    `# Soak ${stamp}`,
    '',
    `${SESSIONS} sessions (${PEOPLE} people, ${SESSIONS - PEOPLE} agents), ${Math.round(elapsed / 1000)} s, ${report.machine.cpus} CPUs (${report.machine.model}), restart ${RESTART ? 'at 50%' : 'off'}, revocation wave at 65%.`,
    '',
    '| figure | value |',
    '| --- | --- |',
    `| requests | ${counts.requests} (${report.requestsPerSecond}/s) |`,
    `| tool calls answered | ${counts.toolCalls} |`,
    `| errors (not 429, not revoked, not the restart window) | ${counts.errors} |`,
    `| expected 429 | ${counts.expected429} |`,
    `| refused after revocation (expected) | ${counts.expectedRevoked} |`,
    `| requests cut by the restart (expected) | ${counts.restartWindow} |`,
    `| SSE streams held | ${counts.streams} |`,
    `| refreshes / key rotations / revocations | ${counts.refreshes} / ${counts.rotations} / ${counts.revoked} |`,
    `| sessions resumed after the restart | ${counts.resumed} (not resumed: ${counts.notResumed}) |`,
    `| workerd RSS MiB (min / max first half / max / last) | ${report.memory.minMiB} / ${report.memory.maxFirstHalfMiB} / ${report.memory.maxMiB} / ${report.memory.lastMiB} |`,
    `| audit: answered calls exported exactly once | ${audit.answered - audit.answeredMissing} of ${audit.answered}; duplicates ${audit.duplicated}; unknown ${audit.unknown} |`,
    `| audit: calls without an answer (cut by the restart, refused) that were recorded | ${audit.unansweredRecorded} of ${audit.unanswered} |`,
    '',
    pass ? 'Result: PASS' : 'Result: FAIL',
    '',
    ...(errorKinds.size ? ['## Errors by kind', '', ...Object.entries(report.errorKinds).map(([k, n]) => `- ${n} × ${k}`), ''] : []),
    ...(errorSamples.length ? ['## First errors', '', ...errorSamples.map((e) => `- ${e}`)] : []),
    '',
    '## RSS over time (s: MiB)',
    '',
    memory.map((m) => `${m.t}: ${m.rssMiB}`).join(', '),
    '',
  ].join('\n');
}
