/** Audit events as OCSF 1.3.0: API Activity (6003) and Authentication (3002), every required attribute filled. Pure. */
import type { Actor, AuditEvent, AuditType } from './event.ts';

/** The two OCSF classes events map to. */
export type OcsfClass = 3002 | 6003;

/** The OCSF schema version written to `metadata.version`. */
export const OCSF_VERSION = '1.3.0';

/** Class and activity of each event type; for Other (99) the activity name is the event type (docs/audit.md has the same table). */
export const OCSF_MAPPING: Readonly<Record<AuditType, { class_uid: OcsfClass; activity_id: number; activity_name: string }>> = {
  'tool.call': { class_uid: 6003, activity_id: 2, activity_name: 'Read' },
  'tool.integrity_failed': { class_uid: 6003, activity_id: 99, activity_name: 'tool.integrity_failed' },
  'tool.result_flagged': { class_uid: 6003, activity_id: 99, activity_name: 'tool.result_flagged' },
  'admin.action': { class_uid: 6003, activity_id: 99, activity_name: 'admin.action' },
  'admin.read': { class_uid: 6003, activity_id: 2, activity_name: 'Read' },
  'key.created': { class_uid: 6003, activity_id: 1, activity_name: 'Create' },
  'key.rotated': { class_uid: 6003, activity_id: 3, activity_name: 'Update' },
  'key.revoked': { class_uid: 6003, activity_id: 4, activity_name: 'Delete' },
  'key.rate_limited': { class_uid: 6003, activity_id: 99, activity_name: 'key.rate_limited' },
  'auth.sign_in': { class_uid: 3002, activity_id: 1, activity_name: 'Logon' },
  'auth.token_issued': { class_uid: 3002, activity_id: 1, activity_name: 'Logon' },
  'auth.refresh': { class_uid: 3002, activity_id: 1, activity_name: 'Logon' },
  'auth.revoke': { class_uid: 3002, activity_id: 2, activity_name: 'Logoff' },
  'auth.consent': { class_uid: 3002, activity_id: 99, activity_name: 'auth.consent' },
  'auth.code_issued': { class_uid: 3002, activity_id: 99, activity_name: 'auth.code_issued' },
  'auth.refresh_reuse': { class_uid: 3002, activity_id: 99, activity_name: 'auth.refresh_reuse' },
  'auth.code_replay': { class_uid: 3002, activity_id: 99, activity_name: 'auth.code_replay' },
  'auth.token_rejected': { class_uid: 3002, activity_id: 99, activity_name: 'auth.token_rejected' },
  'client.registered': { class_uid: 3002, activity_id: 99, activity_name: 'client.registered' },
  'auth.failed': { class_uid: 3002, activity_id: 99, activity_name: 'auth.failed' },
  'client.registration_refused': { class_uid: 3002, activity_id: 99, activity_name: 'client.registration_refused' },
  'session.opened': { class_uid: 6003, activity_id: 99, activity_name: 'session.opened' },
  'detection.fired': { class_uid: 6003, activity_id: 99, activity_name: 'detection.fired' },
  'anomaly.detected': { class_uid: 6003, activity_id: 99, activity_name: 'anomaly.detected' },
  'anomaly.enforced': { class_uid: 6003, activity_id: 99, activity_name: 'anomaly.enforced' },
  'client.disabled': { class_uid: 6003, activity_id: 3, activity_name: 'Update' },
  'client.enabled': { class_uid: 6003, activity_id: 3, activity_name: 'Update' },
  'session.ended': { class_uid: 6003, activity_id: 99, activity_name: 'session.ended' },
};

const CLASSES = {
  6003: { class_name: 'API Activity', category_uid: 6, category_name: 'Application Activity' },
  3002: { class_name: 'Authentication', category_uid: 3, category_name: 'Identity & Access Management' },
} as const;

/**
 * Dotted paths each class requires in OCSF 1.3.0 (base event, class, and the required attributes
 * and `at_least_one` constraints of the objects used). `a|b` means at least one of them.
 */
export const OCSF_REQUIRED: Readonly<Record<OcsfClass, readonly string[]>> = {
  6003: [
    'activity_id', 'category_uid', 'class_uid', 'type_uid', 'time', 'severity_id',
    'metadata.version', 'metadata.product.vendor_name', 'metadata.product.name|metadata.product.uid',
    'actor', 'actor.user|actor.app_name|actor.app_uid|actor.session|actor.process|actor.invoked_by',
    'api.operation',
    'src_endpoint', 'src_endpoint.ip|src_endpoint.uid|src_endpoint.name|src_endpoint.hostname|src_endpoint.svc_name|src_endpoint.instance_uid|src_endpoint.interface_uid|src_endpoint.interface_name',
  ],
  3002: [
    'activity_id', 'category_uid', 'class_uid', 'type_uid', 'time', 'severity_id',
    'metadata.version', 'metadata.product.vendor_name', 'metadata.product.name|metadata.product.uid',
    'user', 'user.uid|user.name|user.account',
    'service|dst_endpoint',
  ],
};

/** Required inside an object when the object is present: `[object path, required paths under it]`. */
const REQUIRED_IF_PRESENT: ReadonlyArray<readonly [string, readonly string[]]> = [
  ['api.request', ['uid']],
  ['actor.user', ['uid|name|account']],
  ['actor.idp', ['uid|name']],
  ['service', ['name|uid']],
  ['dst_endpoint', ['ip|uid|name|hostname|svc_name|instance_uid|interface_uid|interface_name']],
  ['src_endpoint', ['ip|uid|name|hostname|svc_name|instance_uid|interface_uid|interface_name']],
];

/** The value at a dotted path, or undefined. */
function at(record: unknown, path: string): unknown {
  let current = record;
  for (const part of path.split('.')) {
    if (typeof current !== 'object' || current === null) return undefined;
    current = (current as Record<string, unknown>)[part];
  }
  return current;
}

/** True when a value counts as present (not undefined, null or the empty string). */
function present(value: unknown): boolean {
  return value !== undefined && value !== null && value !== '';
}

/** The required paths of its class (and of its present objects) that `record` lacks; empty when it is valid. */
export function missingOcsfFields(record: Record<string, unknown>): string[] {
  const classUid = record['class_uid'];
  if (classUid !== 3002 && classUid !== 6003) return ['class_uid'];
  const missing: string[] = [];
  const check = (alternatives: string) => {
    if (!alternatives.split('|').some((path) => present(at(record, path)))) missing.push(alternatives);
  };
  OCSF_REQUIRED[classUid].forEach(check);
  for (const [object, paths] of REQUIRED_IF_PRESENT) {
    if (!present(at(record, object))) continue;
    for (const alternatives of paths) check(alternatives.split('|').map((p) => `${object}.${p}`).join('|'));
  }
  return missing;
}

/** An object without its undefined members. */
function compact<T extends Record<string, unknown>>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** An object, or undefined when it has no members left. */
function nonEmpty<T extends Record<string, unknown>>(value: T): Partial<T> | undefined {
  const out = compact(value);
  return Object.keys(out).length > 0 ? out : undefined;
}

/** Severity: theft signals High, denials Medium, failures Low, the rest Informational. */
function severity(event: AuditEvent): { severity_id: number; severity: string } {
  if (event.type === 'auth.refresh_reuse' || event.type === 'auth.code_replay') return { severity_id: 4, severity: 'High' };
  if (event.outcome === 'denied') return { severity_id: 3, severity: 'Medium' };
  if (event.outcome === 'failure') return { severity_id: 2, severity: 'Low' };
  return { severity_id: 1, severity: 'Informational' };
}

/** The person (or the owner an agent acts for) as an OCSF User, or undefined when the chain names nobody. */
function personOf(actor: Actor): Record<string, unknown> | undefined {
  if (actor.admin && !actor.user_id) return { uid: `admin:${actor.admin}`, name: actor.admin, type_id: 2, type: 'Admin' };
  const uid = actor.user_id ?? actor.owner;
  if (!uid && !actor.email) return undefined;
  return compact({
    uid,
    name: uid ? undefined : actor.email,
    email_addr: actor.email,
    uid_alt: actor.upstream_subject,
    credential_uid: actor.key_id ?? actor.token_id,
    type_id: 1,
    type: 'User',
  });
}

/** The delegation chain as an OCSF Actor: the person, the client or agent, the session and credential, the upstream IdP. */
function actorOf(event: AuditEvent): Record<string, unknown> {
  const chain = event.actor;
  const session = nonEmpty({ uid: event.session_id, credential_uid: chain.token_id ?? chain.key_id });
  const out = compact({
    user: personOf(chain),
    app_uid: chain.agent_id ?? chain.client_id,
    app_name: chain.agent_name ?? chain.client_id,
    session,
    idp: chain.upstream_issuer ? { uid: chain.upstream_issuer, name: chain.upstream_issuer } : undefined,
  });
  return Object.keys(out).length > 0 ? out : { app_name: 'unknown' };
}

/** The user an Authentication event is about: the person, else the client or agent, else `unknown`. */
function subjectOf(actor: Actor): Record<string, unknown> {
  const person = personOf(actor);
  if (person) return person;
  const uid = actor.agent_id ?? actor.client_id;
  if (uid) return compact({ uid, name: actor.agent_name ?? actor.client_id, type_id: 99, type: 'Other' });
  return { name: 'unknown', type_id: 0, type: 'Unknown' };
}

/** Every id of the chain and the facts OCSF has no attribute for. */
function unmappedOf(event: AuditEvent): Record<string, unknown> {
  const chain = event.actor;
  return compact({
    schema_version: event.v,
    type: event.type,
    outcome: event.outcome,
    user_id: chain.user_id,
    upstream_issuer: chain.upstream_issuer,
    upstream_subject: chain.upstream_subject,
    client_id: chain.client_id,
    agent_id: chain.agent_id,
    agent_name: chain.agent_name,
    owner: chain.owner,
    admin: chain.admin,
    key_id: chain.key_id,
    token_id: chain.token_id,
    grant_id: chain.grant_id,
    session_id: event.session_id,
    tool: event.tool,
    params: event.params,
    result: event.result,
  });
}

/** An audit event as an OCSF 1.3.0 record of class 6003 (API Activity) or 3002 (Authentication). */
export function toOcsf(event: AuditEvent, product: { name: string; version: string }): Record<string, unknown> {
  const { class_uid, activity_id, activity_name } = OCSF_MAPPING[event.type];
  const cls = CLASSES[class_uid];
  const failed = event.outcome !== 'success';
  const detail = event.outcome === 'denied' ? (event.reason ? `Denied: ${event.reason}` : 'Denied') : event.reason;
  const base = compact({
    activity_id,
    activity_name,
    category_uid: cls.category_uid,
    category_name: cls.category_name,
    class_uid,
    class_name: cls.class_name,
    type_uid: class_uid * 100 + activity_id,
    type_name: `${cls.class_name}: ${activity_id === 99 ? 'Other' : activity_name}`,
    time: Date.parse(event.time),
    duration: event.latency_ms === undefined ? undefined : Math.round(event.latency_ms),
    ...severity(event),
    status_id: failed ? 2 : 1,
    status: failed ? 'Failure' : 'Success',
    status_code: event.error_code,
    status_detail: detail,
    message: `${event.type}${event.tool ? ` ${event.tool}` : ''}: ${event.outcome}`,
    metadata: {
      version: OCSF_VERSION,
      uid: event.id,
      event_code: event.type,
      log_name: 'audit',
      product: { name: product.name, vendor_name: product.name, version: product.version },
    },
    actor: actorOf(event),
    src_endpoint: event.client_ip ? { ip: event.client_ip } : { name: 'unknown' },
    dst_endpoint: { svc_name: product.name },
    http_request: event.user_agent ? { user_agent: event.user_agent } : undefined,
    unmapped: unmappedOf(event),
  });
  if (class_uid === 6003) {
    const resources = event.tool
      ? [{ type: 'MCP tool', name: event.tool }]
      : event.type.startsWith('key.') && event.actor.key_id
        ? [{ type: 'API key', uid: event.actor.key_id }]
        : undefined;
    return compact({
      ...base,
      api: compact({
        operation: event.tool ?? event.type,
        service: { name: product.name, version: product.version },
        request: event.request_id ? { uid: event.request_id } : undefined,
        response: nonEmpty({ error: event.error_code, error_message: failed ? event.reason : undefined }),
      }),
      resources,
    });
  }
  return compact({
    ...base,
    user: subjectOf(event.actor),
    auth_protocol_id: 6,
    auth_protocol: 'OAUTH 2.0',
    logon_type_id: 3,
    logon_type: 'Network',
    is_remote: true,
    service: { name: product.name, version: product.version },
  });
}
