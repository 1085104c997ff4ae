/** Where audit events end up: the audit port (MySQL through AUDIT_HYPERDRIVE, or the embedded AuditStore), the optional webhook, and one JSON log line each (Logpush). */
import { auditPort } from '../db/index.ts';
import type { AuditQuery } from '../db/audit-port.ts';
import type { Env } from '../env.ts';
import { AuditEventSchema, type AuditEvent } from './event.ts';

/**
 * Delivers a batch: to the store (idempotent by event id), then to the webhook when one is
 * configured. Throws when either fails, so the outbox keeps the batch and retries both: the
 * store ignores what it has, and the webhook receiver dedupes by event id (at least once).
 */
export async function deliver(env: Env, events: readonly AuditEvent[]): Promise<void> {
  if (events.length === 0) return;
  await auditPort(env).append(events);
  if (env.AUDIT_WEBHOOK_URL) await postWebhook(env.AUDIT_WEBHOOK_URL, env.AUDIT_WEBHOOK_SECRET, events);
  for (const e of events) console.log(JSON.stringify({ audit: e }));
}

/**
 * POSTs the batch as NDJSON with `X-Audit-Timestamp` (Unix seconds) and `X-Audit-Signature:
 * sha256=<hex HMAC-SHA-256 of "<timestamp>.<body>" under AUDIT_WEBHOOK_SECRET>`; any non-2xx
 * answer or a 10 s silence is a failure.
 */
export async function postWebhook(url: string, secret: string | undefined, events: readonly AuditEvent[]): Promise<void> {
  if (!secret || secret.length < 32) throw new Error('AUDIT_WEBHOOK_SECRET (32+ characters) is required with AUDIT_WEBHOOK_URL');
  const body = `${events.map((e) => JSON.stringify(e)).join('\n')}\n`;
  const timestamp = String(Math.floor(Date.now() / 1000));
  const key = await crypto.subtle.importKey('raw', new TextEncoder().encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  const mac = new Uint8Array(await crypto.subtle.sign('HMAC', key, new TextEncoder().encode(`${timestamp}.${body}`)));
  const signature = [...mac].map((b) => b.toString(16).padStart(2, '0')).join('');
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-ndjson', 'x-audit-timestamp': timestamp, 'x-audit-signature': `sha256=${signature}` },
    body,
    signal: AbortSignal.timeout(10_000),
  });
  await response.body?.cancel();
  if (!response.ok) throw new Error(`the audit webhook answered ${response.status}`);
}

/** Events with their delivery sequence, in id order or (with a cursor) in delivery order. */
export async function readAudit(env: Env, q: AuditQuery): Promise<Array<{ event: AuditEvent; seq: number }>> {
  const rows = await auditPort(env).search(q);
  return rows.map((r) => ({ event: AuditEventSchema.parse(JSON.parse(r.event)), seq: r.seq }));
}
