/** The admin API (/admin/*): API keys (create, list, show, rotate, revoke), clients (list; register machine clients), grants. Credentials: the bootstrap ADMIN_SECRET, or an administrator's console session (src/http/console/principal.ts). */
import { z } from 'zod';
import { formatApiKey } from '../auth/api-key-format.ts';
import { isUsableKey } from '../auth/client-assertion.ts';
import { parseClientJwks } from '../auth/client-jwks.ts';
import { timingSafeEqual } from '../auth/encoding.ts';
import { idKey, mintId, verifyId } from '../auth/ids.ts';
import { formatScope, parseScope, SCOPES } from '../auth/scopes.ts';
import type { Env } from '../env.ts';
import { adminError } from '../errors.ts';
import { randomBytes } from '../lib/random.ts';
import type { KeyRecord } from '../contracts/api-key.ts';
import { mediaType, readLimitedText } from './body.ts';
import { registry } from './clients.ts';
import { registerMachineClient } from './client-shards.ts';
import { handleAuditExport } from './admin-audit.ts';
import { handleDetections, isDetectionsRoute } from './admin-detections.ts';
import { handleAlerts, isAlertRoute } from './admin-alerts.ts';
import { handleClientRoute, isClientRoute } from './admin-clients.ts';
import { handleSessionRoute, isSessionRoute } from './admin-sessions.ts';
import { handleDelivery } from './admin-delivery.ts';
import { adminOf, setAdminOf } from './admin-identity.ts';
import { CATALOG } from '../mcp/server.ts';
import { newEvent, requestMeta, type RequestMeta } from '../audit/emit.ts';
import { policyFrom, sanitizeParams } from '../audit/redact.ts';
import { loadConfig } from '../config.ts';
import { adminPrincipal } from './console/principal.ts';
import { noteFailure } from '../audit/failures.ts';

const DAY = 86_400;
const SLUG = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;
const Rate = z.object({ requests: z.number().int().min(1).max(1_000_000), per_seconds: z.number().int().min(1).max(DAY) });

/** POST /admin/keys body. */
export const CreateKeySchema = z.strictObject({
  agent_name: z.string().trim().min(1).max(100),
  agent_id: z.string().regex(SLUG, 'letters, digits, . _ - (up to 100)').optional(),
  owner: z.string().trim().min(1).max(200),
  scopes: z.array(z.enum(SCOPES)).min(1).max(SCOPES.length),
  expires_in: z.number().int().min(60).max(366 * DAY).default(90 * DAY),
  rate_limit: Rate.default({ requests: 60, per_seconds: 60 }),
  // Only tools that exist: a misspelt name would make a limit that never applies.
  tool_limits: z.partialRecord(z.enum(CATALOG.map((t) => t.name) as [string, ...string[]]), Rate).default({}),
});

/** POST /admin/clients body: a machine client for client_credentials with private_key_jwt. */
export const CreateClientSchema = z.strictObject({
  client_name: z.string().trim().min(1).max(100),
  owner: z.string().trim().min(1).max(200),
  scope: z.string().max(200),
  jwks: z.unknown(),
});

const RotateSchema = z.strictObject({ overlap_seconds: z.number().int().min(0).max(7 * DAY).default(3600) });

function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', 'cache-control': 'no-store' } });
}

const fail = adminError;

/** The wire form of a key (never its secret). */
export function keySummary(r: KeyRecord): Record<string, unknown> {
  const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());
  return {
    key_id: r.keyId,
    agent_id: r.agentId,
    agent_name: r.agentName,
    owner: r.owner,
    scopes: r.scopes,
    status: r.status === 'revoked' ? 'revoked' : Date.now() >= r.expiresAt ? 'expired' : 'active',
    created_at: iso(r.createdAt),
    expires_at: iso(r.expiresAt),
    last_used_at: iso(r.lastUsedAt),
    revoked_at: iso(r.revokedAt),
    rate_limit: { requests: r.rate.requests, per_seconds: r.rate.perSeconds },
    tool_limits: Object.fromEntries(Object.entries(r.toolRates).map(([k, v]) => [k, { requests: v.requests, per_seconds: v.perSeconds }])),
  };
}

/** The bootstrap credential: `Authorization: Bearer <ADMIN_SECRET>`, compared in constant time. */
function authorized(request: Request, env: Env): boolean {
  const secret = env.ADMIN_SECRET;
  if (!secret || secret.length < 32) return false;
  const presented = /^bearer +(\S+)$/i.exec(request.headers.get('authorization')?.trim() ?? '')?.[1];
  return presented !== undefined && timingSafeEqual(presented, secret);
}

async function readJson(request: Request): Promise<{ ok: true; body: unknown } | { ok: false; response: Response }> {
  if (mediaType(request.headers.get('content-type')) !== 'application/json') return { ok: false, response: fail('invalid_request', 'the body must be application/json') };
  const text = await readLimitedText(request.body, 16 * 1024);
  if (text === null) return { ok: false, response: fail('invalid_request', 'the body is larger than 16 KiB') };
  try {
    return { ok: true, body: text.trim() === '' ? {} : JSON.parse(text) };
  } catch {
    return { ok: false, response: fail('invalid_request', 'the body is not JSON') };
  }
}

function issues(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ');
}

/**
 * Handles every /admin/* request. Each authenticated request, reads included, is recorded once
 * naming the administrator, the route and the outcome, before the answer leaves: a read as
 * `admin.read`, a refused or failed action as `admin.action`, a successful action by its own
 * event. Requests without the credential are refused and counted per address (a bounded
 * `auth.failed` summary, src/audit/failures.ts), not recorded one by one.
 */
export async function handleAdmin(request: Request, env: Env): Promise<Response> {
  const who = await adminPrincipal(request, env, authorized(request, env));
  if (!who.ok) {
    if (who.response.status === 401 && env.ADMIN_SECRET && env.ADMIN_SECRET.length >= 32) {
      await noteFailure(env, 'admin_secret', requestMeta(request), { reason: request.headers.has('authorization') ? 'wrong_secret' : 'missing' });
    }
    return who.response;
  }
  return handleAdminAs(request, env, who.admin);
}

/** An admin request by `admin` (already authenticated): routed, then recorded; a named administrator's successful actions are recorded too. */
export async function handleAdminAs(request: Request, env: Env, admin: string): Promise<Response> {
  setAdminOf(request, admin);
  const started = Date.now();
  const response = await route(request, env);
  // A successful action is recorded by the action itself (key.created, key.rotated, key.revoked,
  // admin.action for a machine client, auth.revoke for a grant); here: every read, and the
  // actions that were refused or failed, which record nothing else.
  const read = request.method === 'GET' || request.method === 'HEAD';
  if ((read || response.status >= 400 || admin !== 'bootstrap') && !continuesRead(request)) await recordAdminRequest(request, env, response, Date.now() - started, admin);
  return response;
}

/**
 * A page of the audit export that continues a read (`after=<id>`, or `cursor` > 0): not
 * recorded, so that paging to the end or a continuous export (a SIEM, `audit tail`) does not
 * feed on its own reads; the read is recorded at its first page, like every other read.
 */
function continuesRead(request: Request): boolean {
  const url = new URL(request.url);
  if (request.method !== 'GET' || url.pathname.replace(/\/+$/, '') !== '/admin/audit/events') return false;
  const cursor = url.searchParams.get('cursor');
  return url.searchParams.has('after') || (cursor !== null && /^[0-9]+$/.test(cursor) && Number(cursor) > 0);
}

/** The route with its object id as `:id`, and that object as the chain names it (as key events do: `key_id`, `grant_id`). */
function routeOf(path: string): { route: string; object?: { key_id: string } | { grant_id: string } } {
  const m = /^\/admin\/(keys|grants)\/([A-Za-z0-9_-]{43})(\/rotate|\/revoke)?$/.exec(path);
  const id = m?.[2];
  if (!id) return { route: path.slice(0, 200) };
  return { route: `/admin/${m[1] ?? ''}/:id${m[3] ?? ''}`, object: m[1] === 'keys' ? { key_id: id } : { grant_id: id } };
}

/** Records one admin request naming the administrator (`bootstrap` for the ADMIN_SECRET credential). */
export async function recordAdminRequest(request: Request, env: Env, response: Response, latencyMs: number, admin = 'bootstrap'): Promise<void> {
  const config = loadConfig(env);
  if (!config.AUDIT_ENABLED) return;
  const url = new URL(request.url);
  const { route, object } = routeOf(url.pathname.replace(/\/+$/, ''));
  const query = Object.fromEntries(url.searchParams);
  let errorCode: string | undefined;
  if (response.status >= 400) {
    const body = (await response.clone().json().catch(() => null)) as { error?: unknown } | null;
    errorCode = typeof body?.error === 'string' ? body.error : `http_${response.status}`;
  }
  const event = newEvent({
    type: request.method === 'GET' || request.method === 'HEAD' ? 'admin.read' : 'admin.action',
    outcome: response.status < 400 ? 'success' : 'failure',
    actor: { admin, ...object },
    params: {
      method: request.method,
      route,
      ...(Object.keys(query).length > 0 ? { query: sanitizeParams(query, policyFrom(config.AUDIT_SENSITIVE_FIELDS)) } : {}),
      status: response.status,
    },
    latency_ms: latencyMs,
    ...(errorCode ? { error_code: errorCode } : {}),
    reason: `${request.method} ${route} answered ${response.status}`,
    meta: requestMeta(request),
  });
  await env.AUDIT_STORE.get(env.AUDIT_STORE.idFromName('default')).record(event);
}

/** Routes an authenticated admin request (nothing recorded here). */
export async function route(request: Request, env: Env): Promise<Response> {
  const path = new URL(request.url).pathname.replace(/\/+$/, '');
  const method = request.method;
  const keyRoute = /^\/admin\/keys\/([A-Za-z0-9_-]{43})(?:\/(rotate|revoke))?$/.exec(path);
  const grantRoute = /^\/admin\/grants\/([A-Za-z0-9_-]{43})\/revoke$/.exec(path);
  if (path === '/admin/keys') {
    if (method === 'POST') return createKey(request, env);
    if (method === 'GET') return json({ keys: await listKeys(env) });
    return fail('method_not_allowed', 'use GET or POST');
  }
  if (keyRoute?.[1]) {
    const keyId = keyRoute[1];
    if (!(await verifyId(await idKey(env.ID_SECRET), 'key', keyId))) return fail('not_found', 'no such key');
    const stub = env.API_KEY.get(env.API_KEY.idFromName(keyId));
    const action = keyRoute[2];
    if (!action && method === 'GET') {
      const shown = await stub.show();
      if (!shown) return fail('not_found', 'no such key');
      return json({ ...keySummary(shown.record), secrets: shown.secrets.map((s) => ({ created_at: new Date(s.createdAt).toISOString(), retires_at: s.retiresAt === null ? null : new Date(s.retiresAt).toISOString() })) });
    }
    if (action === 'rotate' && method === 'POST') return rotateKey(request, env, keyId);
    if (action === 'revoke' && method === 'POST') {
      const revoked = (await stub.revoke(Date.now(), adminContext(request))) as KeyRecord | null;
      if (!revoked) return fail('not_found', 'no such key');
      await registry(env).indexKey(keyId, keySummary(revoked), revoked.createdAt);
      return json(keySummary(revoked));
    }
    return fail('method_not_allowed', 'GET /admin/keys/:id, POST /admin/keys/:id/rotate or /revoke');
  }
  if (isDetectionsRoute(path)) return handleDetections(request, env, path);
  if (isAlertRoute(path)) return handleAlerts(request, env, path);
  if (path === '/admin/audit/events') return method === 'GET' ? handleAuditExport(request, env) : fail('method_not_allowed', 'use GET');
  if (isClientRoute(path)) return handleClientRoute(request, env, path);
  if (isSessionRoute(path)) return handleSessionRoute(request, env, path);
  if (path === '/admin/audit/delivery') return handleDelivery(request, env);
  if (path === '/admin/clients' && method === 'GET') return json({ clients: await registry(env).listClients() });
  if (path === '/admin/clients' && method === 'POST') return createClient(request, env);
  if (grantRoute?.[1] && method === 'POST') {
    const gid = grantRoute[1];
    if (!(await verifyId(await idKey(env.ID_SECRET), 'txn', gid))) return fail('not_found', 'no such grant');
    const revoked = await env.AUTH_TXN.get(env.AUTH_TXN.idFromName(gid)).revokeByAdmin(requestMeta(request));
    return revoked ? json({ grant_id: gid, revoked: true }) : fail('not_found', 'no live grant with that id');
  }
  return fail('not_found', 'unknown admin endpoint');
}

/** An agent id from its name: lower case, runs of other characters as '-'. */
function slug(name: string): string {
  const s = name.toLowerCase().replace(/[^a-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 100);
  return s === '' ? 'agent' : s;
}

/**
 * Every key, read live from its own object (last use, expiry and status are current); the
 * registry's index only says which keys exist. One call per key, eight at a time.
 */
async function listKeys(env: Env): Promise<Array<Record<string, unknown>>> {
  const ids = await registry(env).listKeys();
  const out: Array<Record<string, unknown>> = [];
  for (let i = 0; i < ids.length; i += 8) {
    const shown = await Promise.all(ids.slice(i, i + 8).map((id) => env.API_KEY.get(env.API_KEY.idFromName(id)).show()));
    for (const s of shown) if (s) out.push(keySummary(s.record));
  }
  return out;
}

async function createKey(request: Request, env: Env): Promise<Response> {
  const read = await readJson(request);
  if (!read.ok) return read.response;
  const parsed = CreateKeySchema.safeParse(read.body);
  if (!parsed.success) return fail('invalid_request', issues(parsed.error));
  const p = parsed.data;
  const now = Date.now();
  const keyId = await mintId(await idKey(env.ID_SECRET), 'key', randomBytes(16));
  const record: KeyRecord = {
    keyId,
    owner: p.owner,
    agentId: p.agent_id ?? slug(p.agent_name),
    agentName: p.agent_name,
    scopes: [...new Set(p.scopes)],
    createdAt: now,
    expiresAt: now + p.expires_in * 1000,
    lastUsedAt: null,
    status: 'active',
    revokedAt: null,
    rate: { requests: p.rate_limit.requests, perSeconds: p.rate_limit.per_seconds },
    toolRates: Object.fromEntries(Object.entries(p.tool_limits).flatMap(([k, v]) => (v ? [[k, { requests: v.requests, perSeconds: v.per_seconds }]] : []))),
  };
  const created = await env.API_KEY.get(env.API_KEY.idFromName(keyId)).create(record, adminContext(request));
  if ('error' in created) return fail('conflict', created.error);
  const summary = keySummary(record);
  await registry(env).indexKey(keyId, summary, now);
  return json({ key: formatApiKey(keyId, created.secret), ...summary }, 201);
}

/**
 * Registers a machine client: it authenticates with private_key_jwt (signed by one of `jwks`)
 * and may use only the client_credentials grant, for `owner`, within `scope`.
 */
async function createClient(request: Request, env: Env): Promise<Response> {
  const read = await readJson(request);
  if (!read.ok) return read.response;
  const parsed = CreateClientSchema.safeParse(read.body);
  if (!parsed.success) return fail('invalid_request', issues(parsed.error));
  const p = parsed.data;
  const scope = parseScope(p.scope);
  if (!scope.ok) return fail('invalid_request', `scope: unknown scope ${scope.unknown.map((s) => JSON.stringify(s.slice(0, 50))).join(', ')} (known: ${SCOPES.join(' ')})`);
  if (scope.scopes.length === 0) return fail('invalid_request', `scope: at least one of ${SCOPES.join(' ')}`);
  if (p.jwks === undefined) return fail('invalid_request', 'jwks: Required');
  const jwks = parseClientJwks(p.jwks);
  if (!jwks.ok) return fail('invalid_request', `${jwks.field}: ${jwks.description}`);
  for (const [index, key] of jwks.keys.entries()) {
    if (!(await isUsableKey(key))) return fail('invalid_request', `jwks.keys.${index}: not a usable ${key.kty === 'EC' ? 'P-256' : 'RSA'} public key`);
  }
  const client = await registerMachineClient(env, { clientName: p.client_name, owner: p.owner, scope: formatScope(scope.scopes), jwks: jwks.keys }, Date.now());
  return json(
    {
      client_id: client.clientId,
      client_name: client.clientName,
      owner: client.owner,
      scope: client.scope,
      token_endpoint_auth_method: 'private_key_jwt',
      grant_types: ['client_credentials'],
      created_at: new Date(client.createdAt).toISOString(),
    },
    201,
  );
}

async function rotateKey(request: Request, env: Env, keyId: string): Promise<Response> {
  const read = await readJson(request);
  if (!read.ok) return read.response;
  const parsed = RotateSchema.safeParse(read.body);
  if (!parsed.success) return fail('invalid_request', issues(parsed.error));
  const rotated = await env.API_KEY.get(env.API_KEY.idFromName(keyId)).rotate(parsed.data.overlap_seconds, Date.now(), adminContext(request));
  if ('error' in rotated) return rotated.error === 'not_found' ? fail('not_found', 'no such key') : fail('conflict', 'the key is revoked');
  const shown = await env.API_KEY.get(env.API_KEY.idFromName(keyId)).show();
  return json({ key: formatApiKey(keyId, rotated.secret), ...(shown ? keySummary(shown.record) : { key_id: keyId }), previous_retires_at: new Date(rotated.previousRetiresAt).toISOString() });
}

/** The administrator and request behind a key change, for its audit event (issue 16). */
function adminContext(request: Request): { admin: string; meta: RequestMeta } {
  return { admin: adminOf(request), meta: requestMeta(request) };
}
