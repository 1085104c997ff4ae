/** The wire form of a call refused by an anomaly policy: 403 `anomaly_blocked`, 429 throttled, or 401 asking for a fresh sign-in. */
import { bearerError, rateLimited } from '../errors.ts';

/** A refusal decided by the session (durable/session-baseline.ts). */
export interface AnomalyRefusalWire {
  action: 'throttle' | 'block' | 'reauth';
  until: number;
  retryAfterSeconds: number;
}

/** The HTTP answer; the JSON-RPC error's `data.reason` is the typed code. */
export function anomalyRefusal(refusal: AnomalyRefusalWire, resourceMetadata: string): Response {
  const until = new Date(refusal.until).toISOString();
  if (refusal.action === 'throttle') return rateLimited('anomaly', refusal.retryAfterSeconds, {});
  if (refusal.action === 'reauth') {
    return bearerError('invalid_token', { resourceMetadata, description: `unusual activity: a fresh sign-in is required (anomaly_reauth_required until ${until})` });
  }
  const body = { jsonrpc: '2.0', error: { code: -32003, message: 'Forbidden: refused after unusual activity for this principal', data: { reason: 'anomaly_blocked', until } }, id: null };
  return new Response(JSON.stringify(body), { status: 403, headers: { 'content-type': 'application/json', 'cache-control': 'no-store', 'retry-after': String(refusal.retryAfterSeconds) } });
}
