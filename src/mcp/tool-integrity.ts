/** Start-up check of every tool against the bundled lock (tools.lock.json): once per isolate, logged loudly, failures audited. */
import type { Config } from '../config.ts';
import type { ToolLock } from '../security/integrity/lock.ts';
import { digestTool } from '../security/integrity/canonical.ts';
import { verifyTools, type IntegrityFailure, type IntegrityVerdict } from '../security/integrity/verify.ts';
import type { IntegrityGate } from './integrity-gate.ts';
import { referenceTools } from './tool-definitions.ts';
import { bundledLock } from './tool-lock.ts';

/** Receives the failures of the check once, when it first runs in an isolate (the session records them as audit events). */
export type IntegrityReport = (failures: readonly IntegrityFailure[]) => Promise<void>;

const verdicts = new Map<boolean, IntegrityVerdict>();
let warnedOff = false;

/**
 * The verdict for this configuration, computed on first use in the isolate and then reused.
 * Every failure is one JSON log line (`tool.integrity_failed`) and goes to `report` once.
 * Only the settled verdict is shared: a pending promise is never awaited from another session's
 * request (workerd ties async work to the request that started it), so sessions that start
 * together may each compute it, and the first to finish logs and reports.
 * With TOOL_INTEGRITY=off (only to measure the layer's cost) nothing is checked: every tool is
 * served without its digest and signature, and the isolate logs that once, as an error.
 */
export async function toolIntegrity(config: Config, report: IntegrityReport): Promise<IntegrityGate> {
  if (config.TOOL_INTEGRITY === 'off') {
    if (!warnedOff) console.error(JSON.stringify({ event: 'tool.integrity_off', level: 'critical', message: 'TOOL_INTEGRITY=off: tools are served unchecked (only for measuring the cost)' }));
    warnedOff = true;
    return 'unchecked';
  }
  const key = config.ENABLE_CONFORMANCE_PACK;
  const hit = verdicts.get(key);
  if (hit) return hit;
  const result = await checkTools(config, bundledLock());
  const raced = verdicts.get(key);
  if (raced) return raced;
  verdicts.set(key, result);
  logVerdict(result);
  if (result.failed.length > 0) {
    await report(result.failed).catch((error: unknown) => {
      console.error(JSON.stringify({ event: 'tool.integrity_audit_failed', error: String(error) }));
    });
  }
  return result;
}

/** Checks the tools a server with this configuration serves against a lock (not cached; for tests and the CLI). */
export async function checkTools(config: Config, lock: ToolLock | Error): Promise<IntegrityVerdict> {
  const served = await referenceTools(config);
  if (lock instanceof Error) {
    // Fail closed: with no usable lock, no tool is served.
    const failed = await Promise.all(
      served.map(async ({ entry, scope }): Promise<IntegrityFailure> => ({
        tool: entry.name,
        problem: 'lock_invalid',
        expected: null,
        actual: (await digestTool(entry, scope)).digest,
        changed: [],
        message: `${entry.name}: the tool lock is unusable (${lock.message})`,
      })),
    );
    return { passed: new Map(), failed };
  }
  return verifyTools(served, lock);
}

function logVerdict(verdict: IntegrityVerdict): void {
  for (const f of verdict.failed) {
    console.error(
      JSON.stringify({
        event: 'tool.integrity_failed',
        level: 'critical',
        tool: f.tool,
        problem: f.problem,
        expected: f.expected,
        actual: f.actual,
        changed: f.changed.map((c) => `${c.path} ${c.change}`),
        served: false,
        message: f.message,
      }),
    );
  }
}
