/** Audit events as Elastic Common Schema 8.11 documents, with the MCP specifics under a custom `mcp` object. Pure. */
import type { AuditEvent, AuditType } from './event.ts';

/** The ECS version written to `ecs.version`. */
export const ECS_VERSION = '8.11.0';

/** ECS `event.category` and base `event.type` of each event type (docs/audit.md has the same table). */
export const ECS_MAPPING: Readonly<Record<AuditType, { category: string; type: string }>> = {
  'tool.call': { category: 'api', type: 'access' },
  'tool.integrity_failed': { category: 'api', type: 'denied' },
  'tool.result_flagged': { category: 'api', type: 'info' },
  'admin.action': { category: 'api', type: 'admin' },
  'admin.read': { category: 'api', type: 'access' },
  'key.created': { category: 'iam', type: 'creation' },
  'key.rotated': { category: 'iam', type: 'change' },
  'key.revoked': { category: 'iam', type: 'deletion' },
  'key.rate_limited': { category: 'api', type: 'denied' },
  'client.registered': { category: 'iam', type: 'creation' },
  'auth.sign_in': { category: 'authentication', type: 'start' },
  'auth.token_issued': { category: 'authentication', type: 'start' },
  'auth.refresh': { category: 'authentication', type: 'start' },
  'auth.revoke': { category: 'authentication', type: 'end' },
  'auth.consent': { category: 'authentication', type: 'info' },
  'auth.code_issued': { category: 'authentication', type: 'info' },
  'auth.refresh_reuse': { category: 'authentication', type: 'info' },
  'auth.code_replay': { category: 'authentication', type: 'info' },
  'auth.token_rejected': { category: 'authentication', type: 'info' },
  'auth.failed': { category: 'authentication', type: 'info' },
  'client.registration_refused': { category: 'iam', type: 'info' },
  'session.opened': { category: 'api', type: 'start' },
  'detection.fired': { category: 'api', type: 'info' },
  'anomaly.detected': { category: 'api', type: 'info' },
  'anomaly.enforced': { category: 'api', type: 'denied' },
  'client.disabled': { category: 'iam', type: 'change' },
  'client.enabled': { category: 'iam', type: 'change' },
  'session.ended': { category: 'api', type: 'end' },
};

/** ECS `event.outcome` of an audit outcome: a denial is a failure (the `mcp.outcome` field keeps `denied`). */
export function ecsOutcome(outcome: AuditEvent['outcome']): 'success' | 'failure' {
  return outcome === 'success' ? 'success' : 'failure';
}

/** An object without its undefined members, or undefined when none is left. */
function nonEmpty(value: Record<string, unknown>): Record<string, unknown> | undefined {
  const out = Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined));
  return Object.keys(out).length > 0 ? out : undefined;
}

/** `event.type`: the base type, plus `allowed`/`denied` for API events where ECS expects them. */
function eventTypes(event: AuditEvent): string[] {
  const { category, type } = ECS_MAPPING[event.type];
  const types = [type];
  if (category === 'api' && type !== 'denied') {
    if (event.outcome === 'denied') types.push('denied');
    else if (event.outcome === 'success') types.push('allowed');
  }
  return types;
}

/** An audit event as an ECS 8.11 document. */
export function toEcs(event: AuditEvent): Record<string, unknown> {
  const chain = event.actor;
  const userId = chain.user_id ?? chain.owner ?? (chain.admin ? `admin:${chain.admin}` : undefined);
  const relatedUsers = [...new Set([chain.user_id, chain.owner, chain.email, chain.upstream_subject].filter((u): u is string => !!u))];
  const doc: Record<string, unknown> = {
    '@timestamp': event.time,
    ecs: { version: ECS_VERSION },
    event: nonEmpty({
      id: event.id,
      kind: 'event',
      category: [ECS_MAPPING[event.type].category],
      type: eventTypes(event),
      action: event.type,
      outcome: ecsOutcome(event.outcome),
      duration: event.latency_ms === undefined ? undefined : Math.round(event.latency_ms * 1_000_000),
      reason: event.reason,
      dataset: 'mcp.audit',
    }),
    user: nonEmpty({ id: userId, email: chain.email, name: chain.admin, roles: chain.admin ? ['admin'] : undefined }),
    client: nonEmpty({ ip: event.client_ip }),
    source: nonEmpty({ ip: event.client_ip }),
    user_agent: nonEmpty({ original: event.user_agent }),
    http: event.request_id ? { request: { id: event.request_id } } : undefined,
    error: nonEmpty({ code: event.error_code }),
    related: nonEmpty({
      user: relatedUsers.length > 0 ? relatedUsers : undefined,
      ip: event.client_ip ? [event.client_ip] : undefined,
    }),
    labels: nonEmpty({
      grant_id: chain.grant_id,
      key_id: chain.key_id,
      session_id: event.session_id,
      token_id: chain.token_id,
      agent_id: chain.agent_id,
      client_id: chain.client_id,
    }),
    mcp: nonEmpty({
      schema_version: event.v,
      outcome: event.outcome,
      tool: event.tool,
      params: event.params,
      result: event.result,
      agent_name: chain.agent_name,
      owner: chain.owner,
      admin: chain.admin,
      upstream: nonEmpty({ issuer: chain.upstream_issuer, subject: chain.upstream_subject }),
    }),
  };
  return Object.fromEntries(Object.entries(doc).filter(([, v]) => v !== undefined));
}
