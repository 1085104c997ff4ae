/** The session's recorder of flagged tool results: a `tool.result_flagged` audit event with the caller's chain, and an alert. */
import { publishAlert } from '../alerts/raise.ts';
import { actorOf, newEvent, type RequestMeta } from '../audit/emit.ts';
import type { AuditEvent } from '../audit/event.ts';
import { policyFrom, sanitizeParams } from '../audit/redact.ts';
import type { Config } from '../config.ts';
import type { Env } from '../env.ts';
import type { Principal } from './principal.ts';
import { MAX_SHOWN_FINDINGS, visible, type ResultFlag, type ResultFlaggedSink } from './result-guard.ts';

/** What the recorder needs from the session. */
export interface RecorderDeps {
  env: Pick<Env, 'ALERT_HUB'>;
  config: Config;
  /** Writes the event durably (the session's outbox). */
  record: (event: AuditEvent) => Promise<unknown>;
  /** The request in flight with this JSON-RPC id: its request facts and its own principal (after a refresh, the new token). */
  callOf: (requestId: string | number) => { meta: RequestMeta | undefined; principal: Principal } | undefined;
  principal: Principal;
  sessionId: () => string | undefined;
}

/** The audit event of one flagged result. */
export function resultFlaggedEvent(flag: ResultFlag, deps: Omit<RecorderDeps, 'env' | 'record'>): AuditEvent {
  const call = deps.callOf(flag.requestId);
  const list = flag.findings.map((f) => `${f.rule} at ${f.path} "${visible(f.span)}"`).join('; ');
  return newEvent({
    type: 'tool.result_flagged',
    outcome: flag.action === 'block' ? 'denied' : 'success',
    actor: actorOf(call?.principal ?? deps.principal),
    session_id: deps.sessionId(),
    tool: flag.tool,
    params: sanitizeParams(flag.args, policyFrom(deps.config.AUDIT_SENSITIVE_FIELDS)),
    ...(flag.action === 'block' ? { error_code: 'result_blocked' } : {}),
    reason: `${flag.action}: ${flag.findings.length} finding(s): ${list}`,
    meta: call?.meta,
  });
}

/** A sink for guardResult: the audit event first (when auditing is on), then the alert (best effort). */
export function resultFlaggedRecorder(deps: RecorderDeps): ResultFlaggedSink {
  return async (flag) => {
    const event = resultFlaggedEvent(flag, deps);
    if (deps.config.AUDIT_ENABLED) await deps.record(event);
    const first = flag.findings[0];
    await publishAlert(deps.env, {
      source: 'tool_result',
      rule: first?.rule ?? 'result-scan',
      severity: flag.findings.some((f) => f.severity === 'high') ? 'high' : 'medium',
      title: `Instruction-like text in a ${flag.tool} result (${flag.action})`,
      group: `tool_result:${flag.tool}:${first?.rule ?? 'result-scan'}`,
      actor: event.actor,
      reasons: flag.findings.slice(0, MAX_SHOWN_FINDINGS).map((f) => `${f.rule} at ${f.path}: ${visible(f.message)}`.slice(0, 500)),
      tool: flag.tool,
      ...(deps.config.AUDIT_ENABLED ? { event_id: event.id } : {}),
      time: event.time,
    });
  };
}
