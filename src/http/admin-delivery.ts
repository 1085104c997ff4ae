/** `GET /admin/audit/delivery?minutes=N` (issue 12): audit delivery as measured by the AuditStore: events delivered per minute, their lag, the outboxes whose delivery is failing and what they hold. */
import type { DeliveryView } from '../audit/delivery-stats.ts';
import type { Env } from '../env.ts';
import { adminError } from '../errors.ts';

/** The AuditStore's delivery record over the last `minutes` minutes. */
export async function deliveryStats(env: Env, minutes = 15): Promise<DeliveryView> {
  return env.AUDIT_STORE.get(env.AUDIT_STORE.idFromName('default')).deliveryStats(minutes);
}

/** Handles GET /admin/audit/delivery (already authenticated). */
export async function handleDelivery(request: Request, env: Env): Promise<Response> {
  if (request.method !== 'GET') return adminError('method_not_allowed', 'use GET');
  const raw = new URL(request.url).searchParams.get('minutes') ?? '15';
  if (!/^[1-9][0-9]?$/.test(raw) || Number(raw) > 60) return adminError('invalid_request', 'minutes: a whole number from 1 to 60');
  return new Response(JSON.stringify(await deliveryStats(env, Number(raw))), { headers: { 'content-type': 'application/json', 'cache-control': 'no-store' } });
}
