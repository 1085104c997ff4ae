/** The audit event (schema version 1): who did what, on whose authority, with what, and what happened. */
import { z } from 'zod';

/** Every kind of event the server records. */
export const AUDIT_TYPES = [
  'tool.call',
  'tool.integrity_failed',
  'tool.result_flagged',
  'auth.sign_in',
  'auth.consent',
  'auth.code_issued',
  'auth.token_issued',
  'auth.refresh',
  'auth.refresh_reuse',
  'auth.code_replay',
  'auth.revoke',
  'auth.token_rejected',
  'client.registered',
  'key.created',
  'key.rotated',
  'key.revoked',
  'key.rate_limited',
  'admin.action',
  'admin.read',
  // Issue 16: bounded failed-credential summaries, refused registrations, opened sessions, detections.
  'auth.failed',
  'client.registration_refused',
  'session.opened',
  'detection.fired',
  'anomaly.detected',
  'anomaly.enforced',
  // Issue 12: an administrator disables or enables a client, or ends one session.
  'client.disabled',
  'client.enabled',
  'session.ended',
] as const;

/** One of AUDIT_TYPES. */
export type AuditType = (typeof AUDIT_TYPES)[number];

/** The delegation chain: the person, the agent or client acting for them, and the credential used. */
export const ActorSchema = z.object({
  user_id: z.string().optional(),
  upstream_issuer: z.string().optional(),
  upstream_subject: z.string().optional(),
  email: z.string().optional(),
  client_id: z.string().optional(),
  agent_id: z.string().optional(),
  agent_name: z.string().optional(),
  key_id: z.string().optional(),
  token_id: z.string().optional(),
  grant_id: z.string().optional(),
  /** For an agent: the user the key acts for. */
  owner: z.string().optional(),
  /** The administrator behind an admin API request (`bootstrap`: the ADMIN_SECRET credential). */
  admin: z.string().optional(),
});

/** The chain as parsed. */
export type Actor = z.infer<typeof ActorSchema>;

/** A recorded event. `id` sorts by time (48-bit millisecond prefix, then 80 random bits, Crockford base32). */
export const AuditEventSchema = z.object({
  v: z.literal(1),
  id: z.string().regex(/^[0-9A-HJKMNP-TV-Z]{26}$/),
  time: z.iso.datetime({ offset: false }),
  type: z.enum(AUDIT_TYPES),
  outcome: z.enum(['success', 'failure', 'denied']),
  actor: ActorSchema,
  session_id: z.string().optional(),
  tool: z.string().optional(),
  /** Sanitised parameters (src/audit/redact.ts): secrets and sensitive fields redacted, long values cut. */
  params: z.record(z.string(), z.unknown()).optional(),
  result: z.object({ rows: z.number().int().min(0).optional(), bytes: z.number().int().min(0).optional() }).optional(),
  latency_ms: z.number().min(0).optional(),
  error_code: z.string().optional(),
  /** A short, safe explanation (never a secret). */
  reason: z.string().max(500).optional(),
  request_id: z.string().optional(),
  client_ip: z.string().optional(),
  user_agent: z.string().max(300).optional(),
});

/** A parsed audit event. */
export type AuditEvent = z.infer<typeof AuditEventSchema>;

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** A sortable unique id (ULID layout) from the time and 10 random bytes, both passed in. */
export function eventId(nowMs: number, random: Uint8Array): string {
  if (random.length !== 10) throw new Error('eventId needs 10 random bytes');
  let time = '';
  let t = Math.floor(nowMs);
  for (let i = 0; i < 10; i++) {
    time = CROCKFORD[t % 32] + time;
    t = Math.floor(t / 32);
  }
  let bits = 0n;
  for (const b of random) bits = (bits << 8n) | BigInt(b);
  let rand = '';
  for (let i = 0; i < 16; i++) {
    rand = CROCKFORD[Number(bits & 31n)] + rand;
    bits >>= 5n;
  }
  return time + rand;
}
