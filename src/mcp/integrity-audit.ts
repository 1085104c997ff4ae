/** Records tool-integrity failures in the audit trail (the audit store, durably), one `tool.integrity_failed` event per tool. */
import { newEvent } from '../audit/emit.ts';
import type { Config } from '../config.ts';
import type { Env } from '../env.ts';
import type { IntegrityReport } from './tool-integrity.ts';

/** A report that writes each failure as an audit event with the expected and actual digest and the changed fields. */
export function auditIntegrityFailures(env: Env, config: Config): IntegrityReport {
  return async (failures) => {
    if (!config.AUDIT_ENABLED) return;
    const store = env.AUDIT_STORE.get(env.AUDIT_STORE.idFromName('default'));
    for (const f of failures) {
      await store.record(
        newEvent({
          type: 'tool.integrity_failed',
          outcome: 'failure',
          actor: { agent_id: 'own-mcp-server', agent_name: 'tool integrity check' },
          tool: f.tool,
          error_code: f.problem,
          reason: `not served: ${f.problem.replace(/_/g, ' ')}${f.changed.length > 0 ? ` (${f.changed.map((c) => `${c.path} ${c.change}`).join(', ')})` : ''}`,
          // Digests are public facts, not secrets: kept whole here (the reason text would shorten long hex runs).
          params: { expected_digest: f.expected, actual_digest: f.actual, changed: f.changed.map((c) => `${c.path} ${c.change}`) },
        }),
      );
    }
  };
}
