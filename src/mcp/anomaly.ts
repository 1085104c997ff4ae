/** Glue between a session and the baseline engine: settings from the config, the principal's kind, calls, alerts and audit events. Pure. */
import type { Config } from '../config.ts';
import type { AlertInput } from '../contracts/alert-hub.ts';
import type { EventInput, RequestMeta } from '../audit/emit.ts';
import { actorOf } from '../audit/emit.ts';
import { DEFAULT_SETTINGS, withSettings, type BaselineCall, type BaselineSettings, type ScoreResult } from '../security/baseline/index.ts';
import { DEFAULT_POLICY, type AnomalyAction, type AnomalyPolicy, type PolicyKind } from './anomaly-policy.ts';
import type { Principal } from './principal.ts';

/** The engine's settings: the defaults, with the learning period and hour profile from the environment (a live evaluation learns in minutes). */
export function anomalySettings(config: Config): BaselineSettings {
  const overrides: Partial<{ -readonly [K in keyof BaselineSettings]: BaselineSettings[K] }> = {};
  if (config.ANOMALY_MIN_CALLS !== undefined) overrides.minCalls = config.ANOMALY_MIN_CALLS;
  if (config.ANOMALY_MIN_LEARNING_SECONDS !== undefined) overrides.minAgeMs = config.ANOMALY_MIN_LEARNING_SECONDS * 1000;
  if (config.ANOMALY_TOOL_MIN_CALLS !== undefined) overrides.toolMinCalls = config.ANOMALY_TOOL_MIN_CALLS;
  if (config.ANOMALY_HOUR_MIN_AGE_SECONDS !== undefined) overrides.hourMinAgeMs = config.ANOMALY_HOUR_MIN_AGE_SECONDS * 1000;
  return Object.keys(overrides).length === 0 ? DEFAULT_SETTINGS : withSettings(overrides);
}

/** The policy in force. */
export function anomalyPolicy(config: Config): AnomalyPolicy {
  return config.ANOMALY_POLICY ?? DEFAULT_POLICY;
}

/** A person through an OAuth client, an agent with a key, or a machine client (client_credentials: subject `client:<id>`). */
export function principalKind(p: Principal): PolicyKind {
  if (p.kind === 'agent') return 'agent';
  return p.id.startsWith('client:') ? 'machine' : 'person';
}

/** A stable name of the principal whose baseline this is: the key, or the grant. */
export function baselineOwner(p: Principal): string {
  return p.kind === 'agent' ? `key:${p.keyId}` : `grant:${p.grantId}`;
}

/** A finished (or refused) tool call as the engine reads it. */
export function baselineCall(input: { at: number; tool: string; args: unknown; status: BaselineCall['status']; rows?: number | undefined; bytes?: number | undefined; meta?: RequestMeta | undefined }): BaselineCall {
  const args = input.args !== null && typeof input.args === 'object' && !Array.isArray(input.args) ? (input.args as Record<string, unknown>) : {};
  return {
    at: input.at,
    tool: input.tool.slice(0, 200),
    args,
    status: input.status,
    ...(input.rows !== undefined ? { rows: input.rows } : {}),
    ...(input.bytes !== undefined ? { bytes: input.bytes } : {}),
    ...(input.meta?.ip ? { ip: input.meta.ip.slice(0, 100) } : {}),
    ...(input.meta?.userAgent ? { userAgent: input.meta.userAgent.slice(0, 300) } : {}),
  };
}

/** Alert severity from the score and the action taken. */
function severityOf(verdict: ScoreResult, action: AnomalyAction): AlertInput['severity'] {
  if (action === 'block' || action === 'reauth') return 'critical';
  return verdict.score >= 0.95 ? 'high' : 'medium';
}

/** The `anomaly.detected` audit event: the full chain, the tool, the score and the explanation. */
export function detectedEvent(p: Principal, call: BaselineCall, verdict: ScoreResult, action: AnomalyAction, sessionId: string | undefined, meta: RequestMeta | undefined): EventInput {
  const reasons = verdict.reasons.join('; ');
  return {
    type: 'anomaly.detected',
    outcome: action === 'alert' ? 'success' : 'denied',
    actor: actorOf(p),
    session_id: sessionId,
    tool: call.tool,
    params: { score: round(verdict.score), reasons: verdict.reasons, action, kind: principalKind(p) },
    ...(call.rows !== undefined || call.bytes !== undefined ? { result: { ...(call.rows !== undefined ? { rows: Math.round(call.rows) } : {}), ...(call.bytes !== undefined ? { bytes: Math.round(call.bytes) } : {}) } } : {}),
    reason: `score ${round(verdict.score)}: ${reasons}`.slice(0, 500),
    meta,
  };
}

/** The `anomaly.enforced` audit event: a policy refused or slowed a call. */
export function enforcedEvent(p: Principal, tool: string, action: AnomalyAction, until: number, cause: string, sessionId: string | undefined, meta: RequestMeta | undefined): EventInput {
  return {
    type: 'anomaly.enforced',
    outcome: 'denied',
    actor: actorOf(p),
    session_id: sessionId,
    tool,
    params: { action, until: new Date(until).toISOString(), cause },
    error_code: action === 'throttle' ? 'anomaly_throttled' : action === 'reauth' ? 'anomaly_reauth_required' : 'anomaly_blocked',
    reason: `${action} until ${new Date(until).toISOString()} after anomaly ${cause}`,
    meta,
  };
}

/** What the alert hub gets: grouped per principal and tool, so a burst is one alert with a count. */
export function alertOf(p: Principal, call: BaselineCall, verdict: ScoreResult, action: AnomalyAction, eventId: string): AlertInput {
  const who = p.kind === 'agent' ? `agent ${p.agentName}` : principalKind(p) === 'machine' ? `machine client ${p.clientId}` : `${p.email ?? p.id} via ${p.clientId}`;
  return {
    source: 'anomaly',
    rule: 'baseline',
    severity: severityOf(verdict, action),
    title: `Unusual ${call.tool} call by ${who}${action === 'alert' ? '' : ` (${action})`}`.slice(0, 300),
    group: `anomaly:${baselineOwner(p)}:${call.tool}`.slice(0, 300),
    actor: actorOf(p),
    reasons: verdict.reasons.slice(0, 20).map((r) => r.slice(0, 500)),
    score: Math.min(1, Math.max(0, round(verdict.score))),
    tool: call.tool,
    event_id: eventId,
    time: new Date(call.at).toISOString(),
  };
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}
