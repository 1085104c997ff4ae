/** The admin API's alert routes: list, acknowledge, and the live WebSocket forwarded to the alert hub (durable/alert-hub.ts). */
import { newEvent, requestMeta } from '../audit/emit.ts';
import { loadConfig } from '../config.ts';
import type { Env } from '../env.ts';
import { adminError } from '../errors.ts';
import { adminOf } from './admin-identity.ts';

const ALERT_ID = /^[0-9A-HJKMNP-TV-Z]{26}$/;

function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', 'cache-control': 'no-store' } });
}

/** True for the paths this module serves. */
export function isAlertRoute(path: string): boolean {
  return path === '/admin/alerts' || path.startsWith('/admin/alerts/');
}

/**
 * `GET /admin/alerts?limit&before&open`, `POST /admin/alerts/:id/ack`, `GET /admin/alerts/live`
 * (a WebSocket upgrade; the hub sends its state as `cf_agent_state` on connect and on every change).
 * The caller (src/http/admin.ts) has checked the admin credential and records reads and failures;
 * a successful acknowledgement is recorded here as `admin.action`.
 */
export async function handleAlerts(request: Request, env: Env, path: string): Promise<Response> {
  const hub = env.ALERT_HUB;
  if (!hub) return adminError('not_found', 'the alert hub is not configured (binding ALERT_HUB)');
  const stub = hub.get(hub.idFromName('default'));
  const method = request.method;
  if (path === '/admin/alerts') {
    if (method !== 'GET') return adminError('method_not_allowed', 'use GET');
    const url = new URL(request.url);
    const limitText = url.searchParams.get('limit');
    const before = url.searchParams.get('before');
    const open = url.searchParams.get('open');
    if (limitText !== null && !/^\d{1,4}$/.test(limitText)) return adminError('invalid_request', 'limit: a whole number from 1 to 1000');
    const limit = limitText === null ? 50 : Number(limitText);
    if (limit < 1 || limit > 1000) return adminError('invalid_request', 'limit: a whole number from 1 to 1000');
    if (before !== null && !ALERT_ID.test(before)) return adminError('invalid_request', 'before: an alert id');
    if (open !== null && open !== 'true' && open !== 'false') return adminError('invalid_request', 'open: true or false');
    const alerts = await stub.list({ limit, ...(before !== null ? { before } : {}), open: open === 'true' });
    return json({ alerts, next_before: alerts.length === limit ? (alerts.at(-1)?.id ?? null) : null });
  }
  if (path === '/admin/alerts/live') {
    if (method !== 'GET') return adminError('method_not_allowed', 'use GET with Upgrade: websocket');
    if (request.headers.get('upgrade')?.toLowerCase() !== 'websocket') return adminError('invalid_request', 'this endpoint is a WebSocket: send Upgrade: websocket');
    // The hub's own path: the Agent resolves its name from the object id; no credential travels on.
    const headers = new Headers(request.headers);
    headers.delete('authorization');
    // The console's session cookie stays here too: the hub needs no credential.
    headers.delete('cookie');
    return stub.fetch(new Request('https://alert-hub.internal/agents/alert-hub/default', { method: 'GET', headers }));
  }
  const ack = /^\/admin\/alerts\/([^/]+)\/ack$/.exec(path);
  if (ack?.[1] !== undefined) {
    if (method !== 'POST') return adminError('method_not_allowed', 'use POST');
    const id = ack[1];
    if (!ALERT_ID.test(id)) return adminError('not_found', 'no such alert');
    const admin = adminOf(request);
    const alert = await stub.acknowledge(id, admin, Date.now());
    if (!alert) return adminError('not_found', 'no such alert');
    // A named administrator's successful action is recorded by src/http/admin.ts (handleAdminAs).
    if (admin === 'bootstrap') await recordAck(request, env, id, alert.group);
    return json(alert);
  }
  return adminError('not_found', 'unknown admin endpoint');
}

async function recordAck(request: Request, env: Env, id: string, group: string): Promise<void> {
  if (!loadConfig(env).AUDIT_ENABLED) return;
  const event = newEvent({
    type: 'admin.action',
    outcome: 'success',
    actor: { admin: 'bootstrap' },
    params: { method: 'POST', route: '/admin/alerts/:id/ack', alert_id: id, group: group.slice(0, 300), status: 200 },
    reason: `acknowledged alert ${id}`,
    meta: requestMeta(request),
  });
  await env.AUDIT_STORE.get(env.AUDIT_STORE.idFromName('default')).record(event);
}
